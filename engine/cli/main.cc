#include <cstdio>
int main() { std::puts("intvit: under construction"); return 0; }

// intvit-bench: one executable, one subcommand per benchmark family.
//   intvit-bench kernels [--seconds S] [--threads 1,2] [--isa a,b] [--shapes SUBSTR] [--json]   GEMM and nonlinear kernels (kernels_bench.cc)
//   intvit-bench model (--model DIR | --arch NAME) [...]            whole model (model_bench.cc)
//   intvit-bench preprocess --images DIR [...]                       decode and resize per image (preprocess_bench.cc)
#include <cstdio>
#include <cstring>

int run_kernels_bench(int argc, char** argv);  // kernels_bench.cc
int run_model_bench(int argc, char** argv);    // model_bench.cc
int run_preprocess_bench(int argc, char** argv);  // preprocess_bench.cc
void print_bench_usage();                          // every command's options, on stderr

void print_bench_usage() {
  std::fprintf(stderr,
               "usage: intvit-bench <command> [options]\n"
               "  kernels [--seconds S] [--threads 1,2] [--isa ref,avx2,avxvnni,avx512vnni,onednn,amx,amx-emu] [--shapes SUBSTR] [--json]\n"
               "          [--clock]\n"
               "          GOPS of the integer GEMM kernels on ViT-Ti / DeiT-S shapes, per backend (--clock: the core\n"
               "          clock each kernel runs at, against the peak loop's)\n"
               "  model (--model DIR | --arch vit_tiny|deit_small|vit_base|swin_tiny) [--batch 1,8] [--threads 1,2] [--seconds S] ...\n"
               "          whole-model images/s, latency, per-op time shares, GOPS vs peak (model --help)\n"
               "  preprocess --images DIR [--limit N] [--passes P] [--isa ref,avx2,avx512] ...\n"
               "          µs per image of JPEG decoding and of the resize + crop per variant (preprocess --help)\n");
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_bench_usage();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "kernels")) return run_kernels_bench(argc - 1, argv + 1);
  if (!std::strcmp(argv[1], "model")) return run_model_bench(argc - 1, argv + 1);
  if (!std::strcmp(argv[1], "preprocess")) return run_preprocess_bench(argc - 1, argv + 1);
  std::fprintf(stderr, "intvit-bench: unknown command '%s'\n", argv[1]);
  print_bench_usage();
  return 2;
}

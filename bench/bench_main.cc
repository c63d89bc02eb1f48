// intvit-bench: one executable, one subcommand per benchmark family.
//   intvit-bench kernels [--seconds S] [--threads 1,2] [--isa a,b]   GEMM kernels (kernels_bench.cc)
//   intvit-bench model ...                                           whole model (model_bench.cc)
#include <cstdio>
#include <cstring>

int run_kernels_bench(int argc, char** argv);
// Defined in bench/model_bench.cc once it exists; weak so that the executable links without it.
__attribute__((weak)) int run_model_bench(int argc, char** argv);

namespace {
void usage() {
  std::fprintf(stderr,
               "usage: intvit-bench <command> [options]\n"
               "  kernels [--seconds S] [--threads 1,2] [--isa ref,avx2,avxvnni,avx512vnni,onednn]\n"
               "          GOPS of the integer GEMM kernels on ViT-Ti / DeiT-S shapes, per backend\n"
               "  model ...   whole-model latency and throughput\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "kernels")) return run_kernels_bench(argc - 1, argv + 1);
  if (!std::strcmp(argv[1], "model")) {
    if (run_model_bench) return run_model_bench(argc - 1, argv + 1);
    std::fprintf(stderr, "intvit-bench model: not yet implemented\n");
    return 2;
  }
  std::fprintf(stderr, "intvit-bench: unknown command '%s'\n", argv[1]);
  usage();
  return 2;
}

// x + b with b a row vector broadcast over the rows of x, float64 (500, 128),
// `calls` calls: the simplest fused elementwise kernel, for counting the
// instructions per element of the JIT's innermost loop (issue 7) with
//
//   valgrind --tool=callgrind --toggle-collect='graphjit::Function::call(*' \
//     build/benchmarks/bench_bias_add [calls]
#include <graphjit/graphjit.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 10;
  graphjit::set_num_threads(1);
  graphjit::RandomState rng(3);
  auto x = graphjit::tensor::matrix("x", graphjit::float64);
  auto b = graphjit::tensor::vector("b", graphjit::float64);
  graphjit::Function f = graphjit::function({x, b}, {x + b});
  const graphjit::Tensor xv = rng.uniform(-1, 1, {500, 128}, graphjit::float64);
  const graphjit::Tensor bv = rng.uniform(-1, 1, {128}, graphjit::float64);
  for (int i = 0; i < calls; ++i) f(xv, bv);
  std::printf("x + b, (500, 128) float64: %d calls\n", calls);
}

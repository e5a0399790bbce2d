// A user-defined op in a real model: multidimensional scaling. Given the
// pairwise distances of points in 3-d, find 2-d positions whose pairwise
// squared distances match them, by gradient descent on the stress
//   mean((pairwise_sqdist(P, P) - D)^2).
// pairwise_sqdist is defined in the user's own code (pairwise_sqdist.hpp,
// graphjit/custom_op.hpp): graphjit compiles it into the training step as a
// native kernel and differentiates through its gradient.
//   build/examples/custom_op [--points N] [--steps N] [--mode debug]
#include "pairwise_sqdist.hpp"

#include <graphjit/graphjit.hpp>

#include <cstdio>
#include <cstring>
#include <string>

namespace T = graphjit::tensor;

int main(int argc, char** argv) {
  std::int64_t points = 60, steps = 400;
  graphjit::Mode mode = graphjit::Mode::fast_run;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--points")) points = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--steps")) steps = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--mode") && !std::strcmp(argv[i + 1], "debug")) mode = graphjit::Mode::debug;
    else {
      std::fprintf(stderr, "usage: %s [--points N] [--steps N] [--mode debug]\n", argv[0]);
      return 2;
    }
  }
  const auto& sqdist = examples::pairwise_sqdist();
  graphjit::RandomState rng(1234);

  // The targets: squared distances between points on a tilted plane in 3-d,
  // so an exact 2-d embedding exists.
  const graphjit::Tensor plane = rng.uniform(-1, 1, {points, 2});
  graphjit::Tensor cloud = graphjit::Tensor::zeros({points, 3}, graphjit::float64);
  for (std::int64_t i = 0; i < points; ++i) {
    const double u = plane.get({i, 0}), v = plane.get({i, 1});
    cloud.set({i, 0}, u);
    cloud.set({i, 1}, 0.6 * v);
    cloud.set({i, 2}, 0.8 * v);
  }
  auto c = T::dmatrix("c");
  const graphjit::Tensor target = graphjit::function({c}, sqdist({c, c}))(cloud);

  auto positions = graphjit::shared(rng.normal(0, 0.5, {points, 2}), "positions");
  auto d = T::dmatrix("d");
  auto stress = T::mean(T::sqr(sqdist({positions, positions}) - d));
  auto train = graphjit::function({d}, stress,
                                  {.updates = {{positions, positions - 0.5 * T::grad(stress, positions)}},
                                   .mode = mode});
  double first = 0, last = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    last = train(target).item<double>();
    if (step == 0) first = last;
    if (step % 50 == 0 || step == steps - 1) std::printf("step %4lld  stress %.3e\n", static_cast<long long>(step), last);
  }
  std::printf("stress %.3e -> %.3e over %lld steps\n", first, last, static_cast<long long>(steps));
  std::fputs(graphjit::debugprint(train).c_str(), stdout);
  return last < 1e-3 * first ? 0 : 1;  // an exact 2-d embedding exists: the fit must find it
}

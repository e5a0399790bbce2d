// What watching a function costs: the seed's train step (MLP 784-128-10,
// batch 100) and a tiny function (x + 1 on 16 elements), each compiled plain,
// with profile = true and with nan_guard = true. Rounds alternate between the
// three so that a shared machine's load falls on all of them alike; the
// median per-call time of each is printed with its overhead over plain.
//
//   build/benchmarks/bench_profile [rounds]
#include "examples/seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace T = graphjit::tensor;
using clock_type = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Variant {
  const char* name;
  std::function<void()> call;
  std::vector<double> us;  // per call, one entry per round
};

void measure(const char* what, std::vector<Variant>& variants, int rounds, int calls_per_round) {
  for (int r = 0; r < rounds; ++r)
    for (Variant& v : variants) {
      const auto t0 = clock_type::now();
      for (int i = 0; i < calls_per_round; ++i) v.call();
      v.us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count() / calls_per_round);
    }
  const double plain = median(variants[0].us);
  std::printf("%s\n", what);
  for (const Variant& v : variants)
    std::printf("  %-10s %9.1f us per call  %+6.1f%%\n", v.name, median(v.us), 100 * (median(v.us) / plain - 1));
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  graphjit::RandomState rng(1);
  const seed::SharedSplit data{graphjit::shared(rng.uniform(0, 1, {1000, 784}), "train x", true),
                               graphjit::shared(rng.uniform(0, 10, {1000}).astype(graphjit::int32), "train y", true)};
  std::vector<seed::Program> programs;
  std::vector<Variant> train;
  for (const char* flags : {"profile=false,nan_guard=false", "profile=true", "profile=false,nan_guard=true"}) {
    graphjit::set_flags(flags);
    seed::Init init{"glorot", graphjit::RandomState(2), graphjit::float64};
    programs.push_back(seed::build_program("mlp", 128, 0.01, graphjit::float64, init, data, data, data));
  }
  graphjit::set_flags("profile=false,nan_guard=false");
  const char* names[] = {"plain", "profile", "nan_guard"};
  for (std::size_t i = 0; i < programs.size(); ++i) {
    graphjit::Function f = programs[i].train;
    train.push_back({names[i], [f] { f(3, 100); }, {}});
  }
  measure("seed train step (784-128-10, batch 100, float64)", train, rounds, 20);

  auto x = T::vector("x");
  const graphjit::Tensor xv = graphjit::Tensor::zeros({16}, graphjit::float64);
  std::vector<Variant> tiny;
  for (std::size_t i = 0; i < 3; ++i) {
    graphjit::Function f = graphjit::function({x}, {x + 1}, {.profile = i == 1, .nan_guard = i == 2});
    tiny.push_back({names[i], [f, xv] { f(xv); }, {}});
  }
  measure("tiny function (x + 1, 16 elements)", tiny, rounds, 2000);
  std::printf("%s", graphjit::profile(programs[1].train).table().c_str());
}

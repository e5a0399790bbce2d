// The profiler (FunctionOptions::profile, the profile flag): per-step times
// that add up to the calls' time, work counts, and its three forms.
#include <doctest/doctest.h>

#include "scoped_config.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <string>

namespace T = graphjit::tensor;
using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

// A layer's worth of work: a BLAS step (gemm after the rewrites) and fused
// elementwise kernels, big enough that each step takes microseconds.
struct Layer {
  graphjit::Variable x = T::matrix("x"), w = T::matrix("w"), b = T::vector("b");
  graphjit::Variable y = T::tanh(T::dot(x, w) + b) * 2 + 1;
  Tensor xv, wv, bv;
  explicit Layer(std::int64_t n) {
    graphjit::RandomState rng(7);
    xv = rng.uniform(-1, 1, {n, n}, graphjit::float64);
    wv = rng.uniform(-1, 1, {n, n}, graphjit::float64);
    bv = rng.uniform(-1, 1, {n}, graphjit::float64);
  }
};

const graphjit::StepProfile* find_kind(const graphjit::Profile& p, const std::string& kind) {
  for (const auto& s : p.steps)
    if (s.kind == kind) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("profile: the step times add up to the calls' time") {
  Layer l(160);
  auto f = graphjit::function({l.x, l.w, l.b}, {l.y}, {.profile = true});
  const int calls = 30;
  for (int i = 0; i < calls; ++i) f(l.xv, l.wv, l.bv);
  const graphjit::Profile p = graphjit::profile(f);
  CHECK(p.calls == calls);
  REQUIRE(!p.steps.empty());
  for (const auto& s : p.steps) CHECK(s.calls == calls);
  // The steps run inside the call, so their sum cannot exceed it; the rest is
  // the executor's own work (binding arguments, allocating, letting go of
  // values), which for steps of this size is well under 10% (measured ~1-2%
  // on the 2-core CI machine).
  const double steps = p.step_seconds();
  CHECK(steps <= p.seconds);
  CHECK(steps >= 0.9 * p.seconds);
  double shares = 0;
  for (const auto& s : p.steps) shares += s.share;
  CHECK(shares == doctest::Approx(steps / p.seconds).epsilon(1e-9));
}

TEST_CASE("profile: GFLOP/s for BLAS steps counts 2*m*n*k, GB/s for kernels the bytes they move") {
  Layer l(64);
  auto f = graphjit::function({l.x, l.w, l.b}, {l.y}, {.profile = true});
  for (int i = 0; i < 3; ++i) f(l.xv, l.wv, l.bv);
  const graphjit::Profile p = graphjit::profile(f);
  const graphjit::StepProfile* blas = find_kind(p, "gemm");
  if (!blas) blas = find_kind(p, "dot");
  REQUIRE(blas != nullptr);
  CHECK(blas->gbytes_per_s == 0);
  // rate * time = the work of all calls.
  CHECK(blas->gflops * 1e9 * blas->seconds == doctest::Approx(3 * 2.0 * 64 * 64 * 64).epsilon(1e-6));
  const graphjit::StepProfile* kernel = find_kind(p, "kernel");
  REQUIRE(kernel != nullptr);
  CHECK(kernel->gflops == 0);
  CHECK(kernel->gbytes_per_s > 0);
  CHECK(contains(kernel->what, "fused kernel"));
  CHECK(contains(kernel->where, "test_profile.cpp:"));
}

TEST_CASE("profile: compile time per stage, LLVM's two parts inside compile_kernels") {
  Layer l(8);
  auto f = graphjit::function({l.x, l.w, l.b}, {l.y * 3 - T::exp(l.y)}, {.profile = true});
  const graphjit::Profile p = graphjit::profile(f);
  std::vector<std::string> stages;
  double compile_kernels = -1, llvm_wall = -1;
  for (const auto& [stage, ms] : p.compile_ms) {
    stages.push_back(stage);
    CHECK(ms >= 0);
    if (stage == "compile_kernels") compile_kernels = ms;
    if (stage == "llvm_wall") llvm_wall = ms;
  }
  CHECK(stages.front() == "optimize");
  for (const char* stage : {"fuse", "build_steps", "order_steps", "plan_memory", "compile_kernels", "llvm_optimize",
                            "llvm_codegen", "llvm_wall"})
    CHECK(std::find(stages.begin(), stages.end(), stage) != stages.end());
  CHECK(llvm_wall <= compile_kernels);
  CHECK(p.calls == 0);
}

TEST_CASE("profile: the table is sorted by time, the JSON holds every step") {
  Layer l(96);
  auto f = graphjit::function({l.x, l.w, l.b}, {l.y}, {.name = "layer", .profile = true});
  for (int i = 0; i < 5; ++i) f(l.xv, l.wv, l.bv);
  const graphjit::Profile p = graphjit::profile(f);
  const std::string table = p.table();
  CHECK(contains(table, "graphjit profile of function 'layer'\n  5 calls, "));
  CHECK(contains(table, "compile (ms): optimize "));
  // Each step's line, by its "#index", appears in order of decreasing time.
  std::vector<const graphjit::StepProfile*> by_time;
  for (const auto& s : p.steps) by_time.push_back(&s);
  std::stable_sort(by_time.begin(), by_time.end(), [](auto* a, auto* b) { return a->seconds > b->seconds; });
  std::size_t last = 0;
  for (const auto* s : by_time) {
    const std::size_t at = table.find(" #" + std::to_string(s->index) + " ");
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  const std::string json = p.json();
  CHECK(contains(json, "{\"function\": \"function 'layer'\", \"calls\": 5, \"seconds\": "));
  for (const auto& s : p.steps) CHECK(contains(json, "{\"index\": " + std::to_string(s.index) + ", \"kind\": \"" + s.kind));
  CHECK(contains(json, "\"compile_ms\": {\"optimize\": "));
}

TEST_CASE("profile: a function compiled without it, or in Mode::reference, says how to get one") {
  Layer l(4);
  auto plain = graphjit::function({l.x, l.w, l.b}, {l.y});
  CHECK(contains(thrown_message<graphjit::FunctionError>([&] { graphjit::profile(plain); }), "{.profile = true}"));
  auto reference = graphjit::function({l.x, l.w, l.b}, {l.y}, {.mode = graphjit::Mode::reference, .profile = true});
  CHECK(contains(thrown_message<graphjit::FunctionError>([&] { graphjit::profile(reference); }), "Mode::reference"));
  // The flag turns it on for every function compiled while it is set.
  graphjit::testing::ScopedConfig flag("profile=true");
  auto flagged = graphjit::function({l.x, l.w, l.b}, {l.y});
  flagged(l.xv, l.wv, l.bv);
  CHECK(graphjit::profile(flagged).calls == 1);
}

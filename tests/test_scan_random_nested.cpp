// Random draws inside a scan nested in a scan's step (issue 13): the inner
// loop's stream state is a state of the outer loop too, so every inner step
// of every outer step draws fresh numbers, the whole double loop reads the
// stream exactly as one flat draw does, the final state comes back as the
// outer scan's update, and the reference and compiled loops agree.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <vector>

namespace T = graphjit::tensor;
using graphjit::RandomStreams;
using graphjit::ScanStep;
using graphjit::Tensor;
using graphjit::Variable;
using Args = std::vector<Variable>;

namespace {

const graphjit::Mode kModes[] = {graphjit::Mode::reference, graphjit::Mode::fast_run, graphjit::Mode::debug};

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// Three outer steps, each an inner scan of four steps drawing two numbers.
// The outer step returns the inner scan's updates as Theano requires, or
// (pass_updates false) leaves them out, as a one-level step may.
graphjit::ScanResult nested_uniform(RandomStreams& rng, bool pass_updates) {
  auto outer_step = [&](const Args&) -> ScanStep {
    auto inner = graphjit::scan([&](const Args&) -> ScanStep { return rng.uniform({2}, 0.0, 1.0, graphjit::float64); },
                                {.outputs_info = {{}}, .n_steps = 4, .name = "inner"});
    return {{inner.outputs[0]}, pass_updates ? inner.updates : graphjit::ScanUpdates{}};
  };
  return graphjit::scan(outer_step, {.outputs_info = {{}}, .n_steps = 3, .name = "outer"});
}

}  // namespace

TEST_CASE("nested scans: the inner draws are fresh at every inner and outer step, as one flat draw") {
  for (auto [mode, pass_updates] : {std::pair{kModes[0], true}, {kModes[1], true}, {kModes[2], true},
                                     {kModes[0], false}, {kModes[1], false}}) {
    CAPTURE(mode);
    CAPTURE(pass_updates);
    RandomStreams rng(17);
    auto r = nested_uniform(rng, pass_updates);
    REQUIRE(r.updates.size() == 1);  // the stream's state after both loops
    auto f = graphjit::function({}, {r.outputs[0]}, {.updates = r.updates, .mode = mode});
    const Tensor first = f()[0];
    REQUIRE(first.shape() == graphjit::Shape{3, 4, 2});
    RandomStreams flat(17);
    CHECK(values(graphjit::function({}, {flat.uniform({24}, 0.0, 1.0, graphjit::float64)})()[0]) == values(first));
    CHECK(r.updates[0].first.get_value().to_vector<std::int64_t>()[1] == 24);
    CHECK(values(f()[0]) != values(first));  // the next call continues the stream
  }
}

TEST_CASE("nested scans with a draw in both loops: the reference, fast_run and debug agree, and reseeding replays") {
  auto run = [](graphjit::Mode mode) {
    RandomStreams rng(23);
    auto x = T::matrix("x");
    auto outer_step = [&](const Args& a) -> ScanStep {  // a[0]: a row of x, a[1]: the running state
      const Variable noise = rng.normal(a[0].shape(), 0.0, 1.0, graphjit::float64);
      auto inner = graphjit::scan(
          [&](const Args& b) -> ScanStep {  // b[0]: the inner state, b[1]: the outer row
            return {b[0] * 0.5 + b[1] * rng.uniform(b[1].shape(), -1.0, 1.0, graphjit::float64)};
          },
          {.outputs_info = {a[1]}, .non_sequences = {a[0] + noise}, .n_steps = 3, .name = "inner"});
      return {{inner.outputs[0][-1]}, inner.updates};
    };
    auto r = graphjit::scan(outer_step, {.sequences = {x}, .outputs_info = {T::zeros_like(x[0])}, .name = "outer"});
    auto f = graphjit::function({x}, {r.outputs[0]}, {.updates = r.updates, .mode = mode});
    graphjit::RandomState data(4);
    const Tensor in = data.uniform(-1, 1, {5, 3}, graphjit::float64);
    std::vector<Tensor> calls{f(in)[0], f(in)[0]};
    rng.seed(23);
    calls.push_back(f(in)[0]);
    return calls;
  };
  const auto ref = run(graphjit::Mode::reference);
  CHECK(values(ref[0]) != values(ref[1]));
  CHECK(values(ref[2]) == values(ref[0]));
  for (auto mode : {graphjit::Mode::fast_run, graphjit::Mode::debug}) {
    CAPTURE(mode);
    const auto got = run(mode);
    for (std::size_t call = 0; call < got.size(); ++call) {
      const auto want = values(ref[call]), have = values(got[call]);
      REQUIRE(want.size() == have.size());
      for (std::size_t i = 0; i < want.size(); ++i) CHECK(have[i] == doctest::Approx(want[i]).epsilon(1e-12));
    }
  }
}

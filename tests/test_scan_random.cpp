// Random draws inside a scan step (issue 13 with RandomStreams, issue 12):
// each step draws fresh numbers, the stream state travels through the loop as
// a state and comes back as an update, the same seed gives the same numbers,
// the reference and the compiled loop agree, and the gradient through a step
// with dropout is right (verify_grad, the masks fixed by the seed).
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

Tensor random(graphjit::Shape shape, std::uint64_t seed, double scale = 0.5) {
  graphjit::RandomState rng(seed);
  return rng.uniform(-scale, scale, shape, graphjit::float64);
}

// Five steps of rng.uniform({4}) (no sequence, no state).
graphjit::ScanResult uniform_rows(RandomStreams& rng) {
  return graphjit::scan([&](const Args&) -> ScanStep { return rng.uniform({4}, 0.0, 1.0, graphjit::float64); },
                        {.outputs_info = {{}}, .n_steps = 5});
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

TEST_CASE("a draw inside the step gives fresh numbers at every step: the stream is a loop state") {
  for (auto mode : kModes) {
    CAPTURE(mode);
    RandomStreams rng(7);
    auto r = uniform_rows(rng);
    REQUIRE(r.updates.size() == 1);  // the stream state, returned as scan's update
    auto f = graphjit::function({}, {r.outputs[0]}, {.updates = r.updates, .mode = mode});
    const Tensor first = f()[0];
    REQUIRE(first.shape() == graphjit::Shape{5, 4});
    const auto v = values(first);
    for (int t = 1; t < 5; ++t)
      CHECK(std::vector<double>(v.begin() + 4 * t, v.begin() + 4 * t + 4) != std::vector<double>(v.begin(), v.begin() + 4));
    // Step t reads the stream t * 4 blocks on: the loop's rows are one flat draw of 20.
    RandomStreams flat(7);
    CHECK(values(graphjit::function({}, {flat.uniform({20}, 0.0, 1.0, graphjit::float64)})()[0]) == v);
    // The call advanced the stream past the 20 blocks: the next call draws new rows.
    CHECK(r.updates[0].first.get_value().to_vector<std::int64_t>()[1] == 20);
    CHECK(values(f()[0]) != v);
  }
}

TEST_CASE("without the updates passed, a function still advances the stream (its default update is the loop's)") {
  RandomStreams rng(3);
  auto r = uniform_rows(rng);
  auto f = graphjit::function({}, {r.outputs[0]});
  const auto a = values(f()[0]), b = values(f()[0]);
  CHECK(a != b);
  CHECK(r.updates[0].first.get_value().to_vector<std::int64_t>()[1] == 40);
  // rng.updates() hands out the loop's final state, which a function accepts.
  auto g = graphjit::function({}, {r.outputs[0]}, {.updates = rng.updates()});
  CHECK(values(g()[0]) != b);
  // Reseeding replays the first call.
  rng.seed(3);
  CHECK(values(f()[0]) == a);
}

TEST_CASE("the same seed reproduces; uniform, normal and binomial agree between the reference and the JIT") {
  auto build = [](graphjit::Mode mode) {
    RandomStreams rng(11);
    auto x = T::matrix("x");
    auto r = graphjit::scan(
        [&](const Args& a) -> ScanStep {
          const Variable u = rng.uniform(a[0].shape(), -1.0, 1.0, graphjit::float64);
          const Variable n = rng.normal(a[0].shape(), 0.0, 2.0, graphjit::float64);
          const Variable mask = rng.binomial(a[0].shape(), 1, 0.3, graphjit::float64);
          return {a[1] + a[0] * u + n * mask};
        },
        {.sequences = {x}, .outputs_info = {T::zeros_like(x[0])}});
    auto f = graphjit::function({x}, {r.outputs[0]}, {.updates = r.updates, .mode = mode});
    const Tensor in = random({6, 8}, 1);
    return std::vector<Tensor>{f(in)[0], f(in)[0]};
  };
  const auto ref = build(graphjit::Mode::reference);
  CHECK(values(ref[0]) != values(ref[1]));
  for (auto mode : {graphjit::Mode::fast_run, graphjit::Mode::debug}) {
    const auto got = build(mode);
    for (int call = 0; call < 2; ++call) {
      const auto want = values(ref[call]), have = values(got[call]);
      REQUIRE(want.size() == have.size());
      for (std::size_t i = 0; i < want.size(); ++i) CHECK(have[i] == doctest::Approx(want[i]).epsilon(1e-12));
    }
  }
  CHECK(values(build(graphjit::Mode::fast_run)[0]) == values(build(graphjit::Mode::fast_run)[0]));
}

TEST_CASE("a draw made outside and passed as a non-sequence stays fixed across steps (Theano's advice)") {
  RandomStreams rng(5);
  const Variable fixed = rng.uniform({3}, 0.0, 1.0, graphjit::float64);
  auto r = graphjit::scan([](const Args& a) -> ScanStep { return a[0] * 1.0; },
                          {.outputs_info = {{}}, .non_sequences = {fixed}, .n_steps = 4});
  CHECK(r.updates.empty());
  const auto v = values(graphjit::function({}, {r.outputs[0]})()[0]);
  for (int t = 1; t < 4; ++t) CHECK(std::vector<double>(v.begin() + 3 * t, v.begin() + 3 * t + 3) == std::vector<double>(v.begin(), v.begin() + 3));
}

TEST_CASE("verify_grad through an RNN step with dropout, the masks fixed by the seed") {
  graphjit::verify_grad(
      [](const Args& in) {
        RandomStreams rng(21);
        auto r = graphjit::scan(
            [&](const Args& a) -> ScanStep {
              const Variable pre = T::dot(a[0], a[2]) + T::dot(T::nnet::dropout(a[1], 0.4, rng), a[3]);
              return T::tanh(pre);
            },
            {.sequences = {in[0]}, .outputs_info = {in[1]}, .non_sequences = {in[2], in[3]}});
        return r.outputs[0];
      },
      {random({5, 3, 4}, 1), random({3, 6}, 2), random({4, 6}, 3), random({6, 6}, 4)});
}

TEST_CASE("the gradient through a step with dropout: JIT against the reference, masks differing per step") {
  auto run = [](graphjit::Mode mode) {
    RandomStreams rng(9);
    auto X = T::tensor3("X");
    auto Wh = T::matrix("Wh");
    auto r = graphjit::scan(
        [&](const Args& a) -> ScanStep { return T::tanh(a[0] + T::dot(T::nnet::dropout(a[1], 0.5, rng), Wh)); },
        {.sequences = {X}, .outputs_info = {T::zeros_like(X[0])}});
    auto loss = T::sum(T::sqr(r.outputs[0]));
    auto g = graphjit::grad(loss, {Wh, X});
    auto f = graphjit::function({X, Wh}, {loss, g[0], g[1]}, {.updates = r.updates, .mode = mode});
    const Tensor x = random({7, 2, 5}, 30, 1), w = random({5, 5}, 31);
    return std::vector<Tensor>{f(x, w)[1], f(x, w)[2]};
  };
  const auto ref = run(graphjit::Mode::reference), jit = run(graphjit::Mode::fast_run);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const auto want = values(ref[i]), have = values(jit[i]);
    REQUIRE(want.size() == have.size());
    for (std::size_t k = 0; k < want.size(); ++k) CHECK(have[k] == doctest::Approx(want[k]).epsilon(1e-10));
  }
}

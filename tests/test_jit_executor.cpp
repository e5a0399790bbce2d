// The JIT executor's contract, checked against the reference evaluator:
// in-place updates of shared variables (same buffer, same values), outputs
// that stay the caller's, step buffers reused across calls of changing
// shapes, call-time shape errors that point at the user's line, debug and
// fast_compile modes, and the diagnostics switches.
#include <doctest/doctest.h>

#include "scoped_config.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::SharedVariable;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

// Within rtol of each element or of the largest magnitude (sums may round differently).
bool close(const Tensor& got, const Tensor& want, double rtol = 1e-10) {
  if (got.shape() != want.shape()) return false;
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double scale = 0;
  for (double v : w) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < g.size(); ++i)
    if (!(std::abs(g[i] - w[i]) <= rtol * (std::abs(w[i]) + scale))) return false;
  return true;
}

// Whether v's value still lives in the buffer `before` (which the caller holds,
// so a new buffer cannot reuse its address).
bool same_buffer(const SharedVariable& v, const Tensor& before) {
  return v.get_value(true).shares_storage_with(before);
}

// A two-layer perceptron's parameters and training step, built once per
// mode on its own shared variables from the same initial values, so the
// fast_run copy can be compared with the reference copy call after call.
struct Mlp {
  SharedVariable W1, b1, W2, b2;
  Variable x = T::matrix("x"), y = T::matrix("y");
  Variable cost;

  Mlp(std::int64_t n_in, std::int64_t n_hidden, std::int64_t n_out, std::uint64_t seed) {
    graphjit::RandomState rng(seed);
    W1 = graphjit::shared(rng.uniform(-0.5, 0.5, {n_in, n_hidden}), "W1");
    b1 = graphjit::shared(rng.uniform(-0.1, 0.1, {n_hidden}), "b1");
    W2 = graphjit::shared(rng.uniform(-0.5, 0.5, {n_hidden, n_out}), "W2");
    b2 = graphjit::shared(rng.uniform(-0.1, 0.1, {n_out}), "b2");
    Variable h = T::tanh(T::dot(x, W1) + b1);
    Variable p = T::softmax(T::dot(h, W2) + b2);
    cost = T::mean(T::sqr(p - y));
  }

  graphjit::FunctionOptions training(Mode mode, double rate) const {
    graphjit::FunctionOptions options{.mode = mode};
    for (const SharedVariable& param : {W1, b1, W2, b2})
      options.updates.push_back({param, param - rate * T::grad(cost, param)});
    return options;
  }
  std::vector<SharedVariable> params() const { return {W1, b1, W2, b2}; }
};

// What a callable writes to stderr (file descriptor 2, where LLVM and the profiler print).
template <class F> std::string captured_stderr(F&& f) {
  std::fflush(stderr);
  FILE* sink = std::tmpfile();
  REQUIRE(sink != nullptr);
  const int saved = dup(2);
  dup2(fileno(sink), 2);
  try {
    f();
  } catch (...) {
    std::fflush(stderr);
    dup2(saved, 2);
    ::close(saved);
    std::fclose(sink);
    throw;
  }
  std::fflush(stderr);
  dup2(saved, 2);
  ::close(saved);
  std::string text;
  std::rewind(sink);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, sink)) > 0;) text.append(buf, n);
  std::fclose(sink);
  return text;
}

}  // namespace

TEST_CASE("W := W - lr * dot(x.T, g) and b := b - lr * sum(g) update the shared buffers in place, as the reference") {
  graphjit::RandomState rng(11);
  const Tensor W0 = rng.uniform(-1, 1, {6, 4}), b0 = rng.uniform(-1, 1, {4});
  auto x = T::matrix("x"), g = T::matrix("g");
  auto build = [&](Mode mode, SharedVariable& W, SharedVariable& b) {
    W = graphjit::shared(W0, "W");
    b = graphjit::shared(b0, "b");
    return graphjit::function(
        {x, g}, {},
        {.updates = {{W, W - 0.1 * T::dot(x.T(), g)}, {b, b - 0.1 * T::sum(g, std::vector<int>{0})}}, .mode = mode});
  };
  SharedVariable W, b, W_ref, b_ref;
  auto f = build(Mode::fast_run, W, b);
  auto f_ref = build(Mode::reference, W_ref, b_ref);
  const Tensor W_buffer = W.get_value(true), b_buffer = b.get_value(true);
  for (int call = 0; call < 4; ++call) {
    const Tensor xv = rng.uniform(-1, 1, {5, 6}), gv = rng.uniform(-1, 1, {5, 4});
    f(xv, gv);
    f_ref(xv, gv);
    INFO("call " << call);
    CHECK(same_buffer(W, W_buffer));
    CHECK(same_buffer(b, b_buffer));
    CHECK(close(W.get_value(), W_ref.get_value()));
    CHECK(close(b.get_value(), b_ref.get_value()));
  }
}

TEST_CASE("an MLP's training step, where the gradient for W1 reads the old W2, equals the reference call after call") {
  Mlp fast(7, 5, 3, 3), ref(7, 5, 3, 3);
  auto train = graphjit::function({fast.x, fast.y}, {fast.cost}, fast.training(Mode::fast_run, 0.5));
  auto train_ref = graphjit::function({ref.x, ref.y}, {ref.cost}, ref.training(Mode::reference, 0.5));
  std::vector<Tensor> buffers;
  for (const SharedVariable& p : fast.params()) buffers.push_back(p.get_value(true));

  graphjit::RandomState rng(5);
  for (int call = 0; call < 5; ++call) {
    const Tensor xv = rng.uniform(-1, 1, {8, 7}), yv = rng.uniform(0, 1, {8, 3});
    const double cost = train(xv, yv)[0].item<double>(), cost_ref = train_ref(xv, yv)[0].item<double>();
    INFO("call " << call);
    CHECK(std::abs(cost - cost_ref) <= 1e-12 * std::abs(cost_ref));
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      INFO(fast.params()[i].name());
      CHECK(close(fast.params()[i].get_value(), ref.params()[i].get_value()));
      CHECK(same_buffer(fast.params()[i], buffers[i]));
    }
  }
}

TEST_CASE("an output that is an updated shared variable is a copy of its value before the call") {
  for (Mode mode : {Mode::fast_run, Mode::reference}) {
    auto W = graphjit::shared(Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2}), "W");
    auto x = T::matrix("x");
    auto f =
        graphjit::function({x}, {W, W.T(), T::dot(x, W)}, {.updates = {{W, W - 0.5 * T::dot(x.T(), x)}}, .mode = mode});
    const Tensor eye = Tensor::from_vector<double>({1, 0, 0, 1}, {2, 2});
    auto first = f(eye);
    CHECK(first[0].to_vector<double>() == std::vector<double>{1, 2, 3, 4});
    CHECK(first[1].to_vector<double>() == std::vector<double>{1, 3, 2, 4});
    CHECK(first[2].to_vector<double>() == std::vector<double>{1, 2, 3, 4});
    CHECK(W.get_value().to_vector<double>() == std::vector<double>{0.5, 2, 3, 3.5});
    auto second = f(eye);
    CHECK(first[0].to_vector<double>() == std::vector<double>{1, 2, 3, 4});
    CHECK(first[1].to_vector<double>() == std::vector<double>{1, 3, 2, 4});
    CHECK(second[0].to_vector<double>() == std::vector<double>{0.5, 2, 3, 3.5});
    CHECK(W.get_value().to_vector<double>() == std::vector<double>{0, 2, 3, 3});
  }
}

TEST_CASE(
    "an update reading the old value through a view of itself (W := W + W.T) is not corrupted by writing in place") {
  const Tensor W0 = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  for (Mode mode : {Mode::fast_run, Mode::debug}) {
    auto W = graphjit::shared(W0, "W");
    auto f = graphjit::function({}, {}, {.updates = {{W, W + W.T()}}, .mode = mode});
    f();
    CHECK(W.get_value().to_vector<double>() == std::vector<double>{2, 6, 10, 6, 10, 14, 10, 14, 18});
  }
}

TEST_CASE("an update reading a row of the old value (W := W + W[0]) is not corrupted by writing in place") {
  const Tensor W0 = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2});
  for (Mode mode : {Mode::fast_run, Mode::fast_compile}) {
    auto W = graphjit::shared(W0, "W");
    auto f = graphjit::function({}, {}, {.updates = {{W, W * 2 + W[0]}}, .mode = mode});
    f();
    CHECK(W.get_value().to_vector<double>() == std::vector<double>{3, 6, 7, 10, 11, 14});
  }
}

TEST_CASE("an argument that is a view of an updated shared variable still reads the old value") {
  const Tensor W0 = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  auto x = T::matrix("x");
  for (Mode mode : {Mode::fast_run, Mode::reference}) {
    auto W = graphjit::shared(W0, "W");
    auto f = graphjit::function({x}, {}, {.updates = {{W, W - x}}, .mode = mode});
    f(W.get_value(true).transpose());  // W - W.T
    CHECK(W.get_value().to_vector<double>() == std::vector<double>{0, -2, -4, 2, 0, -2, 4, 2, 0});
    f(Tensor::full({3, 3}, 1.0, graphjit::float64));  // no alias: in place again
    CHECK(W.get_value().to_vector<double>() == std::vector<double>{-1, -3, -5, 1, -1, -3, 3, 1, -1});
  }
}

TEST_CASE("in-place updates of a shared variable whose value is a transposed view equal the reference") {
  graphjit::RandomState rng(13);
  const Tensor W0 = rng.uniform(-1, 1, {5, 4}), b0 = rng.uniform(-1, 1, {4});
  const Tensor xv = rng.uniform(-1, 1, {3, 5}), gv = rng.uniform(-1, 1, {3, 4});
  auto x = T::matrix("x"), g = T::matrix("g");
  std::vector<Tensor> results;
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto W = graphjit::shared(W0, "W"), b = graphjit::shared(b0, "b");
    W.set_value(W0.transpose().copy().transpose(), true);  // same values, column-major
    auto f = graphjit::function(
        {x, g}, {},
        {.updates = {{W, W - 0.1 * T::dot(x.T(), g)}, {b, T::tanh(b) * 0.5 + T::sum(g, std::vector<int>{0})}},
         .mode = mode});
    for (int call = 0; call < 3; ++call) f(xv, gv);
    results.push_back(W.get_value());
    results.push_back(b.get_value());
  }
  CHECK(close(results[2], results[0]));
  CHECK(close(results[3], results[1]));
}

TEST_CASE("an update whose matrix product reads the old value (W := W - 0.1 * dot(W, A)) equals the reference") {
  graphjit::RandomState rng(2);
  const Tensor W0 = rng.uniform(-1, 1, {4, 4}), A = rng.uniform(-1, 1, {4, 4});
  auto a = T::matrix("a");
  std::vector<Tensor> results;
  for (Mode mode : {Mode::reference, Mode::fast_run}) {
    auto W = graphjit::shared(W0, "W");
    auto f = graphjit::function({a}, {}, {.updates = {{W, W - 0.1 * T::dot(W, a)}}, .mode = mode});
    f(A);
    f(A);
    results.push_back(W.get_value());
  }
  CHECK(close(results[1], results[0]));
}

TEST_CASE("debug mode agrees with the JIT on a training step that also reads a transposed view of an updated weight") {
  Mlp fast(6, 4, 3, 8), ref(6, 4, 3, 8);
  // W1.T feeds an elementwise kernel: a stored view of W1, whose buffer the update overwrites.
  auto penalty = [](const Mlp& m) { return m.cost + 1e-3 * T::sum(T::sqr(m.W1.T() - 0.1)); };
  auto options = [&](const Mlp& m, Mode mode) {
    graphjit::FunctionOptions o{.mode = mode};
    for (const SharedVariable& p : m.params()) o.updates.push_back({p, p - 0.3 * T::grad(penalty(m), p)});
    return o;
  };
  auto train = graphjit::function({fast.x, fast.y}, {penalty(fast)}, options(fast, Mode::debug));
  auto train_ref = graphjit::function({ref.x, ref.y}, {penalty(ref)}, options(ref, Mode::reference));
  graphjit::RandomState rng(4);
  for (int call = 0; call < 3; ++call) {
    const Tensor xv = rng.uniform(-1, 1, {5, 6}), yv = rng.uniform(0, 1, {5, 3});
    INFO("call " << call);
    CHECK(thrown_message([&] { train(xv, yv); }) == "<no exception>");
    train_ref(xv, yv);
    for (std::size_t i = 0; i < 4; ++i) CHECK(close(fast.params()[i].get_value(), ref.params()[i].get_value()));
  }
}

TEST_CASE("steady state: alternating batch sizes through a givens slice give the reference's results") {
  graphjit::RandomState rng(9);
  const std::int64_t n = 1200;
  const Tensor data_x = rng.uniform(-1, 1, {n, 12}), data_y = rng.uniform(0, 1, {n, 3});
  Mlp fast(12, 8, 3, 1), ref(12, 8, 3, 1);
  auto index = T::scalar("index", graphjit::int32), size = T::scalar("size", graphjit::int32);
  auto build = [&](Mlp& m, Mode mode, bool train) {
    auto X = graphjit::shared(data_x, "X"), Y = graphjit::shared(data_y, "Y");
    graphjit::FunctionOptions o = train ? m.training(mode, 0.5) : graphjit::FunctionOptions{.mode = mode};
    o.givens = {{m.x, X[T::slice(index * size, (index + 1) * size)]},
                {m.y, Y[T::slice(index * size, (index + 1) * size)]}};
    return graphjit::function({index, size}, {m.cost, T::sum(T::dot(m.x, m.W1), std::vector<int>{0})}, o);
  };
  auto train = build(fast, Mode::fast_run, true), valid = build(fast, Mode::fast_run, false);
  auto train_ref = build(ref, Mode::reference, true), valid_ref = build(ref, Mode::reference, false);

  Tensor kept, kept_values;  // an output of the first whole-set call, and a copy of its values
  for (int round = 0; round < 3; ++round) {
    for (int batch = 0; batch < 2; ++batch) {
      auto got = train(batch, 500), want = train_ref(batch, 500);
      INFO("round " << round << ", train batch " << batch);
      CHECK(close(got[0], want[0]));
      CHECK(close(got[1], want[1]));
    }
    // Also a tiny batch and the whole set, through the same function.
    for (auto [i, s] : {std::pair{3, 7}, std::pair{0, static_cast<int>(n)}}) {
      auto got = valid(i, s), want = valid_ref(i, s);
      INFO("round " << round << ", valid(" << i << ", " << s << ")");
      CHECK(close(got[0], want[0]));
      CHECK(close(got[1], want[1]));
      if (round == 0 && s == n) {
        kept = got[1];
        kept_values = got[1].copy();
      }
    }
  }
  // Results are the caller's: later calls, reusing the step buffers, did not change them.
  REQUIRE(kept.defined());
  CHECK(kept.equal(kept_values));
}

TEST_CASE("kernels large enough to run on all cores equal the reference, on strided inputs too") {
  graphjit::RandomState rng(31);
  // 64 x 1031 elements: above the parallel threshold, and not a multiple of the vector width.
  const Tensor xv = rng.uniform(-2, 2, {1031, 64}).transpose(),
               yv = rng.uniform(-2, 2, {64, 2062}).slice(1, 0, 2062, 2);
  const Tensor bv = rng.uniform(-1, 1, {1031});
  auto x = T::matrix("x"), y = T::matrix("y"), b = T::vector("b");
  auto z = T::tanh(x) * y + b;
  const std::vector<Variable> outputs{z, T::sum(z, std::vector<int>{0}),
                                      T::max(T::exp(-x * y), std::vector<int>{1}, true), T::mean(z), T::softmax(z)};
  std::vector<std::vector<Tensor>> results;
  for (Mode mode : {Mode::reference, Mode::fast_run})
    results.push_back(graphjit::function({x, y, b}, outputs, {.mode = mode})(xv, yv, bv));
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    INFO("output " << o);
    CHECK(close(results[1][o], results[0][o], 1e-12));
  }
}

TEST_CASE("adding vectors of different lengths fails at call time naming the variables, shapes and source line") {
  auto x = T::vector("x"), y = T::vector("y");
  const int line = __LINE__ + 1;  // where the sum is built
  auto z = T::tanh(x) + y;
  for (Mode mode : {Mode::fast_run, Mode::fast_compile}) {
    auto f = graphjit::function({x, y}, {z}, {.mode = mode});
    const std::string msg = thrown_message<graphjit::ShapeError>([&] {
      f(Tensor::from_vector<double>({1, 2, 3}), Tensor::from_vector<double>({1, 2, 3, 4}));
    });
    INFO(msg);
    CHECK(contains(msg, "(3,)"));
    CHECK(contains(msg, "(4,)"));
    CHECK(contains(msg, "(x: TensorType(float64, vector))"));
    CHECK(contains(msg, "(y: TensorType(float64, vector))"));
    CHECK(contains(msg, fmt::format("test_jit_executor.cpp:{}", line)));
    // The function still works with matching shapes afterwards.
    auto ok = f(Tensor::from_vector<double>({0, 0}), Tensor::from_vector<double>({1, 2}));
    CHECK(ok[0].to_vector<double>() == std::vector<double>{1, 2});
  }
}

TEST_CASE("a matrix product of mismatched inner dims fails at call time naming the shapes and source line") {
  auto a = T::matrix("a"), b = T::matrix("b");
  const int line = __LINE__ + 1;  // where the product is built
  auto p = T::dot(a, b) * 2;
  auto f = graphjit::function({a, b}, {p});
  const std::string msg = thrown_message<graphjit::ShapeError>([&] {
    f(Tensor::zeros({2, 3}, graphjit::float64), Tensor::zeros({4, 5}, graphjit::float64));
  });
  INFO(msg);
  CHECK(contains(msg, "(2, 3)"));
  CHECK(contains(msg, "(4, 5)"));
  CHECK(contains(msg, fmt::format("test_jit_executor.cpp:{}", line)));
}

TEST_CASE("debug mode runs a normal graph and agrees with the reference; fast_compile too") {
  graphjit::RandomState rng(21);
  const Tensor xv = rng.uniform(-1, 1, {6, 7}), yv = rng.uniform(0, 1, {6, 3});
  std::vector<std::vector<Tensor>> params;
  std::vector<double> costs;
  for (Mode mode : {Mode::reference, Mode::debug, Mode::fast_compile, Mode::fast_run}) {
    Mlp m(7, 5, 3, 17);
    auto f = graphjit::function({m.x, m.y}, {m.cost}, m.training(mode, 0.4));
    double cost = 0;
    for (int call = 0; call < 3; ++call) cost = f(xv, yv)[0].item<double>();
    costs.push_back(cost);
    params.emplace_back();
    for (const SharedVariable& p : m.params()) params.back().push_back(p.get_value());
  }
  for (std::size_t k = 1; k < costs.size(); ++k) {
    INFO("mode " << k);
    CHECK(std::abs(costs[k] - costs[0]) <= 1e-12 * std::abs(costs[0]));
    for (std::size_t i = 0; i < params[0].size(); ++i) CHECK(close(params[k][i], params[0][i]));
  }
}

TEST_CASE("excluded_passes: a known pass can be switched off; an unknown name lists the valid ones") {
  auto a = T::matrix("a"), b = T::matrix("b"), c = T::matrix("c");
  auto f = graphjit::function({a, b, c}, {c + 2 * T::dot(a, b)}, {.excluded_passes = {"gemm"}});
  const Tensor one = Tensor::full({2, 2}, 1.0, graphjit::float64);
  CHECK(f(one, one, one)[0].to_vector<double>() == std::vector<double>{5, 5, 5, 5});

  const std::string msg = thrown_message<graphjit::FunctionError>([&] {
    graphjit::function({a, b, c}, {c + T::dot(a, b)}, {.excluded_passes = {"gemmm"}});
  });
  CHECK(contains(msg, "gemmm"));
  for (const char* name : {"merge", "constant_folding", "canonicalize", "stabilize", "gemm"})
    CHECK(contains(msg, name));
}

TEST_CASE("the profile and dump_ir flags print to stderr without disturbing the results") {
  auto x = T::matrix("x");
  const Tensor xv = Tensor::full({3, 4}, 0.5, graphjit::float64);
  const std::string profile = captured_stderr([&] {
    graphjit::testing::ScopedConfig profiling("profile=true");
    auto f = graphjit::function({x}, {T::sum(T::exp(x) * 3, std::vector<int>{1})});
    CHECK(close(f(xv)[0], Tensor::full({3}, 12 * std::exp(0.5), graphjit::float64)));
  });  // the table prints when the function is destroyed
  CHECK(contains(profile, "graphjit profile of function built at"));
  CHECK(contains(profile, "1 calls"));

  const std::string ir = captured_stderr([&] {
    graphjit::testing::ScopedConfig dumping("dump_ir=true,dump_dir=");
    auto f = graphjit::function({x}, {T::log1p(T::sqr(x)) - 7});
    CHECK(close(f(xv)[0], Tensor::full({3, 4}, std::log1p(0.25) - 7, graphjit::float64)));
  });
  CHECK(contains(ir, "graphjit module"));
}

// graphjit::scan: the examples of Theano's loop tutorial with the values the
// tutorial prints (doc/tutorial/loop.txt), in the reference mode (each step
// by the reference evaluator) and compiled (the body compiled once), plus
// errors, map/reduce/foldl/foldr, go_backwards and taps.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <string>

namespace T = graphjit::tensor;
using graphjit::ScanStep;
using graphjit::Tensor;
using graphjit::Variable;
using Args = std::vector<Variable>;

namespace {

const graphjit::Mode kModes[] = {graphjit::Mode::reference, graphjit::Mode::fast_run, graphjit::Mode::debug};

Tensor mat(std::vector<double> v, std::int64_t rows, std::int64_t cols) { return Tensor::from_vector(v, {rows, cols}); }

void check_close(const Tensor& got, const std::vector<double>& want, double tol = 1e-7) {
  const auto g = got.to_vector<double>();
  REQUIRE(g.size() == want.size());
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(want[i]).epsilon(tol));
}

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("tutorial: pow(A, k) by repeated multiplication keeps the last value") {
  for (auto mode : kModes) {
    auto k = T::scalar("k", graphjit::int32);
    auto A = T::vector("A");
    auto r = graphjit::scan([](const Args& a) -> ScanStep { return a[0] * a[1]; },
                            {.outputs_info = {T::ones_like(A)}, .non_sequences = {A}, .n_steps = k});
    auto power = graphjit::function({A, k}, {r.outputs[0][-1]}, {.updates = r.updates, .mode = mode});
    auto out = power(Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 2)[0];
    check_close(out, {0, 1, 4, 9, 16, 25, 36, 49, 64, 81});
  }
}

TEST_CASE("tutorial: a polynomial from its coefficients (sequences of different lengths)") {
  for (auto mode : kModes) {
    auto coefficients = T::vector("coefficients");
    auto x = T::scalar("x");
    auto full_range = T::arange(10000);
    auto r = graphjit::scan([](const Args& a) -> ScanStep { return a[0] * T::pow(a[2], a[1]); },
                            {.sequences = {coefficients, full_range}, .outputs_info = {{}}, .non_sequences = {x}});
    auto polynomial = graphjit::function({coefficients, x}, {r.outputs[0].sum()}, {.mode = mode});
    CHECK(polynomial(Tensor::from_vector(std::vector<double>{1, 0, 2}), 3.0)[0].item<double>() == 19.0);
  }
}

TEST_CASE("tutorial: tanh(x(t).dot(W) + b) elementwise over the rows of X") {
  for (auto mode : kModes) {
    auto X = T::matrix("X"), W = T::matrix("W");
    auto b = T::vector("b_sym");
    auto r = graphjit::scan([&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[0], W) + b); }, {.sequences = {X}});
    auto f = graphjit::function({X, W, b}, {r.outputs[0]}, {.mode = mode});
    auto out = f(mat({1, 0, 0, 1}, 2, 2), mat({1, 1, 1, 1}, 2, 2), Tensor::from_vector(std::vector<double>{1, 2}))[0];
    check_close(out, {0.96402758, 0.99505475, 0.96402758, 0.99505475});
  }
}

TEST_CASE("tutorial: x(t) = tanh(x(t-1).dot(W) + y(t).dot(U) + p(T-t).dot(V))") {
  for (auto mode : kModes) {
    auto X = T::vector("X");
    auto W = T::matrix("W"), U = T::matrix("U"), Y = T::matrix("Y"), V = T::matrix("V"), P = T::matrix("P");
    auto r = graphjit::scan(
        [&](const Args& a) -> ScanStep { return T::tanh(T::dot(a[2], W) + T::dot(a[0], U) + T::dot(a[1], V)); },
        {.sequences = {Y, P[T::slice(std::nullopt, std::nullopt, graphjit::constant(std::int64_t{-1}, graphjit::int64))]},
         .outputs_info = {X}});
    auto f = graphjit::function({X, W, Y, U, P, V}, {r.outputs[0]}, {.mode = mode});
    Tensor y = Tensor::full({5, 2}, 1, graphjit::float64), p = Tensor::full({5, 2}, 1, graphjit::float64);
    y.select(0, 0).fill(-3);
    p.select(0, 0).fill(3);
    const Tensor ones = Tensor::full({2, 2}, 1, graphjit::float64);
    auto out = f(Tensor::from_vector(std::vector<double>{0, 1}), ones, y, ones, p, ones)[0];
    check_close(out, {-0.99505475, -0.99505475, 0.96471973, 0.96471973, 0.99998585, 0.99998585, 0.99998771,
                      0.99998771, 1, 1});
  }
}

TEST_CASE("tutorial: norms of the lines and of the columns of X") {
  for (auto mode : kModes) {
    auto X = T::matrix("X");
    auto norm = [](const Args& a) -> ScanStep { return T::sqrt(T::sum(a[0] * a[0])); };
    auto lines = graphjit::scan(norm, {.sequences = {X}});
    auto cols = graphjit::scan(norm, {.sequences = {X.T()}});
    auto f = graphjit::function({X}, {lines.outputs[0], cols.outputs[0]}, {.mode = mode});
    Tensor x = Tensor::zeros({6, 6}, graphjit::float64);
    for (int i = 0; i < 5; ++i) x.set({i, i + 1}, i + 1);
    auto out = f(x);
    check_close(out[0], {1, 2, 3, 4, 5, 0});
    check_close(out[1], {0, 1, 2, 3, 4, 5});
  }
}

TEST_CASE("tutorial: the trace of X from two index sequences and an outer X") {
  for (auto mode : kModes) {
    auto X = T::matrix("X");
    auto r = graphjit::scan(
        [&](const Args& a) -> ScanStep { return T::cast(X[{a[0], a[1]}] + a[2], graphjit::float32); },
        {.sequences = {T::arange(X.shape(0)), T::arange(X.shape(1))},
         .outputs_info = {graphjit::constant(Tensor::scalar(0.0f))}});
    auto f = graphjit::function({X}, {r.outputs[0][-1]}, {.mode = mode});
    Tensor x = Tensor::zeros({5, 5}, graphjit::float64);
    for (int i = 0; i < 5; ++i) x.set({i, i}, 1), x.set({0, i}, i);
    auto out = f(x)[0];
    CHECK(out.dtype() == graphjit::float32);
    CHECK(out.item<double>() == 4.0);
  }
}

TEST_CASE("tutorial: x(t) = x(t-2).dot(U) + x(t-1).dot(V) + tanh(x(t-1).dot(W) + b), taps [-2, -1]") {
  for (auto mode : kModes) {
    auto X = T::matrix("X"), W = T::matrix("W"), U = T::matrix("U"), V = T::matrix("V");
    auto b = T::vector("b_sym");
    auto n = T::scalar("n_sym", graphjit::int32);
    auto r = graphjit::scan(
        [&](const Args& a) -> ScanStep { return T::dot(a[0], U) + T::dot(a[1], V) + T::tanh(T::dot(a[1], W) + b); },
        {.outputs_info = {{X, {-2, -1}}}, .n_steps = n});
    auto f = graphjit::function({X, U, V, W, b, n}, {r.outputs[0]}, {.mode = mode});
    auto out = f(mat({0, 0, 0, 1}, 2, 2), mat({0, 0.5, 0.5, 0}, 2, 2), Tensor::full({2, 2}, 0.5, graphjit::float64),
                 Tensor::full({2, 2}, 0.5, graphjit::float64), Tensor::full({2}, 1, graphjit::float64), 10)[0];
    check_close(out, {1.40514825, 1.40514825, 2.88898899, 2.38898899, 4.34018291, 4.34018291, 6.53463142, 6.78463142,
                      9.82972243, 9.82972243, 14.22203814, 14.09703814, 20.07439936, 20.07439936, 28.12291843,
                      28.18541843, 39.1913681, 39.1913681, 54.28407732, 54.25282732});
  }
}

TEST_CASE("tutorial: the Jacobian of tanh(v.dot(A)), a gradient inside the step") {
  for (auto mode : kModes) {
    auto v = T::vector("v");
    auto A = T::matrix("A");
    auto y = T::tanh(T::dot(v, A));
    auto r = graphjit::scan([&](const Args& a) -> ScanStep { return graphjit::grad(y[a[0]], v); },
                            {.sequences = {T::arange(y.shape(0))}});
    auto f = graphjit::function({A, v}, {r.outputs[0]}, {.mode = mode});
    Tensor w = Tensor::zeros({5, 3}, graphjit::float64);
    for (int i = 0; i < 3; ++i) w.set({i, i}, 1), w.set({2, i}, 1);
    Tensor x = Tensor::zeros({5}, graphjit::float64);
    x.set({0}, 1);
    check_close(f(w, x)[0], {0.41997434, 0, 0.41997434, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0}, 1e-6);
  }
}

TEST_CASE("tutorial: an accumulator counts the steps through a shared-variable update") {
  for (auto mode : kModes) {
    auto k = graphjit::shared(Tensor::scalar(std::int64_t{0}), "k");
    auto n = T::scalar("n_sym", graphjit::int32);
    auto r = graphjit::scan([&](const Args&) -> ScanStep { return graphjit::ScanUpdates{{k, k + 1}}; }, {.n_steps = n});
    REQUIRE(r.updates.size() == 1);
    auto accumulator = graphjit::function({n}, {}, {.updates = r.updates, .mode = mode});
    CHECK(k.get_value().item<std::int64_t>() == 0);
    accumulator(5);
    CHECK(k.get_value().item<std::int64_t>() == 5);
    accumulator(3);
    CHECK(k.get_value().item<std::int64_t>() == 8);
  }
}

TEST_CASE("Theano's scan guide: a shared variable updated in the loop, read before and after") {
  // a = shared(1); values, updates = scan(lambda: {a: a + 1}, n_steps=10); b = a + 1; c = updates[a] + 1
  // f = function([], [b, c], updates=updates): f() gives b = 2, c = 12, and a becomes 11.
  for (auto mode : kModes) {
    auto a = graphjit::shared(Tensor::scalar(std::int64_t{1}), "a");
    auto r = graphjit::scan([&](const Args&) -> ScanStep { return graphjit::ScanUpdates{{a, a + 1}}; }, {.n_steps = 10});
    auto f = graphjit::function({}, {a + 1, r.updates[0].second + 1}, {.updates = r.updates, .mode = mode});
    auto out = f();
    CHECK(out[0].item<std::int64_t>() == 2);
    CHECK(out[1].item<std::int64_t>() == 12);
    CHECK(a.get_value().item<std::int64_t>() == 11);
  }
}

TEST_CASE("map, reduce, foldl and foldr") {
  for (auto mode : kModes) {
    auto x = T::vector("x");
    auto squares = graphjit::map([](const Args& a) -> ScanStep { return a[0] * a[0]; }, {x});
    auto sum = graphjit::reduce([](const Args& a) -> ScanStep { return a[0] + a[1]; }, {x}, {T::zeros_like(x.sum())});
    // Horner's scheme from the highest coefficient: foldl over reversed, foldr over the coefficients as given.
    auto z = T::scalar("z");
    auto horner = [&](const Args& a) -> ScanStep { return a[1] * a[2] + a[0]; };
    auto right = graphjit::foldr(horner, {x}, {T::zeros_like(z)}, {z});
    auto left = graphjit::foldl([](const Args& a) -> ScanStep { return a[0] - a[1]; }, {x}, {T::zeros_like(z)});
    auto f = graphjit::function({x, z}, {squares.outputs[0], sum.outputs[0], right.outputs[0], left.outputs[0]},
                                {.mode = mode});
    auto out = f(Tensor::from_vector(std::vector<double>{1, 2, 3}), 10.0);
    check_close(out[0], {1, 4, 9});
    CHECK(out[1].item<double>() == 6);
    CHECK(out[2].item<double>() == 321);  // 1 + 10 * (2 + 10 * 3)
    CHECK(out[3].item<double>() == 2);    // element minus state, left to right: 3 - (2 - (1 - 0))
  }
}

TEST_CASE("sequence taps, go_backwards and several outputs") {
  for (auto mode : kModes) {
    auto x = T::vector("x");
    // Sum of the sequence at taps -1 and +1 (Theano: x[t-1] + x[t+1]), with a running sum as a second output.
    auto r = graphjit::scan([](const Args& a) -> ScanStep { return {a[0] + a[1], a[2] + a[0] * a[1]}; },
                            {.sequences = {{x, {-1, 1}}}, .outputs_info = {{}, T::zeros_like(x.sum())}});
    auto back = graphjit::scan([](const Args& a) -> ScanStep { return a[0] * 2; },
                               {.sequences = {x}, .go_backwards = true});
    auto f = graphjit::function({x}, {r.outputs[0], r.outputs[1], back.outputs[0]}, {.mode = mode});
    auto out = f(Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5}));
    check_close(out[0], {4, 6, 8});        // 1+3, 2+4, 3+5
    check_close(out[1], {3, 11, 26});      // 1*3, + 2*4, + 3*5
    check_close(out[2], {10, 8, 6, 4, 2});
  }
}

TEST_CASE("errors name the state and the step") {
  auto x = T::vector("x");
  auto h0 = T::vector("h0", graphjit::float32);
  CHECK(contains(error_of([&] {
          graphjit::scan([](const Args& a) -> ScanStep { return a[1] * a[0]; },
                         {.sequences = {x}, .outputs_info = {h0}});
        }),
        "h0"));
  auto h = T::vector("h");
  auto grow = graphjit::scan([](const Args& a) -> ScanStep { return T::concatenate({a[0], a[0]}); },
                             {.outputs_info = {h}, .n_steps = 3, .name = "grow"});
  auto f = graphjit::function({h}, {grow.outputs[0]});
  const std::string e = error_of([&] { f(Tensor::from_vector(std::vector<double>{1, 2})); });
  CHECK(contains(e, "grow"));
  CHECK(contains(e, "step 0"));
  CHECK(contains(e, "(4,)"));
  CHECK(contains(e, "(2,)"));
  auto W = graphjit::shared(Tensor::zeros({2, 2}, graphjit::float64), "W");
  CHECK(contains(error_of([&] {
          graphjit::scan([&](const Args& a) -> ScanStep { return T::dot(a[0], W); },
                         {.sequences = {T::matrix("m")}, .strict = true});
        }),
        "'W'"));
  auto too_long = graphjit::scan([](const Args& a) -> ScanStep { return a[0]; }, {.sequences = {x}, .n_steps = 4});
  auto g = graphjit::function({x}, {too_long.outputs[0]});
  CHECK(contains(error_of([&] { g(Tensor::from_vector(std::vector<double>{1, 2})); }), "n_steps is 4"));
}

TEST_CASE("a scan read only at its last step keeps only its last state; with a gradient, the whole history") {
  auto k = T::scalar("k", graphjit::int32);
  auto A = T::vector("A");
  auto r = graphjit::scan([](const Args& a) -> ScanStep { return a[0] * a[1]; },
                          {.outputs_info = {T::ones_like(A)}, .non_sequences = {A}, .n_steps = k, .name = "power"});
  auto power = graphjit::function({A, k}, {r.outputs[0][-1]});
  CHECK(contains(graphjit::debugprint(power), "scan{power, output 0, last state only}"));
  check_close(power(Tensor::from_vector(std::vector<double>{1, 2, 3}), 4)[0], {1, 16, 81});
  check_close(power(Tensor::from_vector(std::vector<double>{1, 2, 3}), 0)[0], {1, 1, 1});
  auto with_grad = graphjit::function({A, k}, {r.outputs[0][-1], graphjit::grad(r.outputs[0][-1].sum(), A)});
  CHECK(!contains(graphjit::debugprint(with_grad), "scan{power, output 0, last state only}"));
  auto out = with_grad(Tensor::from_vector(std::vector<double>{1, 2, 3}), 3);
  check_close(out[0], {1, 8, 27});
  check_close(out[1], {3, 12, 27});  // d(a^3)/da = 3 a^2
}

TEST_CASE("a bad n_steps names the scan's line") {
  auto x = T::vector("x");
  auto step = [&](const Args& a) -> ScanStep { return a[0] * 2.0; };
  const std::string negative = error_of([&] { graphjit::scan(step, {.outputs_info = {x}, .n_steps = -3}); });
  CHECK(contains(negative, "n_steps must be a non-negative integer"));
  CHECK(contains(negative, "test_scan.cpp:"));
  auto f = T::scalar("f");
  const std::string floating = error_of([&] { graphjit::scan(step, {.outputs_info = {x}, .n_steps = f}); });
  CHECK(contains(floating, "n_steps must be an integer scalar, got 'f'"));
  CHECK(contains(floating, "test_scan.cpp:"));
}

// theano.function semantics: arguments, outputs, updates, givens, errors.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <string>

namespace T = graphjit::tensor;
using graphjit::Tensor;

namespace {
Tensor vec(std::vector<double> v) { return Tensor::from_vector(v); }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

const graphjit::Mode kModes[] = {graphjit::Mode::reference, graphjit::Mode::fast_run};
}  // namespace

TEST_CASE("a function computes its outputs from numbers and tensors") {
  for (auto mode : kModes) {
    auto x = T::vector("x");
    auto a = T::scalar("a");
    auto f = graphjit::function({x, a}, {x * a + 1, T::sum(x)}, {.mode = mode});
    auto out = f(vec({1, 2, 3}), 2.0);
    REQUIRE(out.size() == 2);
    CHECK(out[0].to_vector<double>() == std::vector<double>{3, 5, 7});
    CHECK(out[1].item<double>() == 6);
  }
}

TEST_CASE("updates are computed from the values before the call, then written") {
  for (auto mode : kModes) {
    auto a = graphjit::shared(vec({1, 2}), "a");
    auto b = graphjit::shared(vec({10, 20}), "b");
    // Swap-like updates: each must read the other's old value.
    auto f = graphjit::function({}, {a + b}, {.updates = {{a, b + 0}, {b, a * 2}}, .mode = mode});
    auto out = f();
    CHECK(out[0].to_vector<double>() == std::vector<double>{11, 22});
    CHECK(a.get_value().to_vector<double>() == std::vector<double>{10, 20});
    CHECK(b.get_value().to_vector<double>() == std::vector<double>{2, 4});
    f();
    CHECK(a.get_value().to_vector<double>() == std::vector<double>{2, 4});
    CHECK(b.get_value().to_vector<double>() == std::vector<double>{20, 40});
  }
}

TEST_CASE("set_value is seen by a function built before it") {
  for (auto mode : kModes) {
    auto w = graphjit::shared(vec({1, 2, 3}), "w");
    auto f = graphjit::function({}, {T::sum(w)}, {.mode = mode});
    CHECK(f()[0].item<double>() == 6);
    w.set_value(vec({4, 5, 6}));
    CHECK(f()[0].item<double>() == 15);
  }
}

TEST_CASE("outputs that alias a shared variable do not change under the caller's feet") {
  for (auto mode : kModes) {
    auto w = graphjit::shared(vec({1, 2}), "w");
    auto f = graphjit::function({}, {w + 0, w.T()}, {.updates = {{w, w * 3}}, .mode = mode});
    auto first = f();
    CHECK(first[1].to_vector<double>() == std::vector<double>{1, 2});
    f();
    CHECK(first[0].to_vector<double>() == std::vector<double>{1, 2});
    CHECK(first[1].to_vector<double>() == std::vector<double>{1, 2});
    CHECK(w.get_value().to_vector<double>() == std::vector<double>{9, 18});
  }
}

TEST_CASE("shared(borrow=false) and get_value(borrow=false) copy; get_value(borrow=true) does not") {
  Tensor v = vec({1, 2});
  auto w = graphjit::shared(v, "w");
  v.set({0}, 100);
  CHECK(w.get_value().get({0}) == 1);
  Tensor got = w.get_value();
  got.set({0}, 7);
  CHECK(w.get_value().get({0}) == 1);
  CHECK(w.get_value(true).shares_storage_with(w.get_value(true)));
}

TEST_CASE("set_value(borrow=false) copies; set_value(borrow=true) keeps the caller's tensor") {
  auto w = graphjit::shared(vec({1, 2}), "w");
  Tensor mine = vec({3, 4});
  w.set_value(mine);
  mine.set({0}, 100);
  CHECK(w.get_value().get({0}) == 3);
  CHECK_FALSE(w.get_value(true).shares_storage_with(mine));
  w.set_value(mine, /*borrow=*/true);
  CHECK(w.get_value(true).shares_storage_with(mine));
  mine.set({1}, 200);
  CHECK(w.get_value().get({1}) == 200);
}

TEST_CASE("givens substitute expressions before compilation") {
  for (auto mode : kModes) {
    auto data = graphjit::shared(vec({1, 2, 3, 4, 5, 6}), "data");
    auto x = T::vector("x");
    auto i = T::scalar("i", graphjit::int32);
    auto n = T::scalar("n", graphjit::int32);
    auto f = graphjit::function({i, n}, {T::sum(x)}, {.givens = {{x, data[T::slice(i * n, (i + 1) * n)]}}, .mode = mode});
    CHECK(f(0, 2)[0].item<double>() == 3);
    CHECK(f(1, 2)[0].item<double>() == 7);
    CHECK(f(0, 6)[0].item<double>() == 21);
  }
}

TEST_CASE("argument errors name the input and what was expected") {
  auto x = T::matrix("x");
  auto i = T::scalar("i", graphjit::int32);
  auto f = graphjit::function({x, i}, {x * i});
  CHECK(contains(error_of([&] { f(Tensor::zeros({2, 2}, graphjit::float64)); }), "expected 2 arguments"));
  auto wrong_rank = error_of([&] { f(vec({1, 2}), 1); });
  CHECK(contains(wrong_rank, "'x'"));
  CHECK(contains(wrong_rank, "expected 2 dimensions"));
  CHECK(contains(error_of([&] { f(Tensor::zeros({2, 2}, graphjit::float64), 1.5); }), "'i'"));
  auto downcast = error_of([&] { f(Tensor::zeros({2, 2}, graphjit::float32).astype(graphjit::int64), 1); });
  CHECK(downcast == "<no exception>");  // int64 -> float64 is what numpy calls a safe cast
  auto v = T::vector("v", graphjit::float32);
  auto g = graphjit::function({v}, {v * 2});
  auto lossy = error_of([&] { g(Tensor{1.0, 2.0}); });
  CHECK(contains(lossy, "'v'"));
  CHECK(contains(lossy, "allow_input_downcast"));
  auto g_down = graphjit::function({v}, {v * 2}, {.allow_input_downcast = true});
  CHECK(g_down(Tensor{1.0, 2.0})[0].dtype() == graphjit::float32);
}

TEST_CASE("function build errors: unused inputs, missing inputs, bad updates") {
  auto x = T::vector("x");
  auto y = T::vector("y");
  CHECK(contains(error_of([&] { graphjit::function({x, y}, {x * 2}); }), "'y' is not used"));
  CHECK_NOTHROW(graphjit::function({x, y}, {x * 2}, {.on_unused_input = graphjit::OnUnusedInput::ignore}));
  CHECK(contains(error_of([&] { graphjit::function({x}, {x + y}); }), "depend on 'y'"));
  auto w = graphjit::shared(vec({1, 2}), "w");
  CHECK(contains(error_of([&] { graphjit::function({}, {w}, {.updates = {{w, T::sum(w)}}}); }), "'w'"));
  CHECK(contains(error_of([&] { graphjit::function({}, {w}, {.updates = {{w, w + 1}, {w, w + 2}}}); }),
                 "updated twice"));
  CHECK(contains(error_of([&] { graphjit::function({w}, {w + 1}); }), "not a symbolic input"));
}

TEST_CASE("operators with C++ numbers follow Theano's autocasting") {
  auto i = T::scalar("i", graphjit::int32);
  CHECK((i + 1).dtype() == graphjit::int32);
  CHECK((i * 2.5).dtype() == graphjit::float64);
  auto v = T::vector("v", graphjit::float32);
  CHECK((0.3 * v).dtype() == graphjit::float32);
  CHECK((v / 2).dtype() == graphjit::float32);
  CHECK((i / i).dtype() == graphjit::float64);
  CHECK((v < 1).dtype() == graphjit::bool_);
}

TEST_CASE("debugprint shows ops, names, types and shared subtrees once") {
  auto x = T::matrix("x");
  auto h = T::tanh(x);
  auto y = h * h;
  std::string text = graphjit::debugprint(y);
  CHECK(contains(text, "mul [id A] <TensorType(float64, matrix)>"));
  CHECK(contains(text, " |tanh [id B]"));
  CHECK(contains(text, "(seen above)"));
  CHECK(contains(text, "x [id C] <TensorType(float64, matrix)>"));
}

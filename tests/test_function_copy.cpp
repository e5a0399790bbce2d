// Function::copy (Theano's Function.copy): by default the copy reads and
// updates the same shared variables; swap gives it other ones; own_shared
// gives it deep copies; delete_updates drops its updates.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <vector>

namespace T = graphjit::tensor;
using graphjit::FunctionError;
using graphjit::Mode;
using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

// The tutorial's own example (swap, delete_updates) is in tests/test_theano_tutorial.cpp.

TEST_CASE("a plain copy shares the shared variables: each function's updates reach the other") {
  for (Mode mode : {Mode::fast_run, Mode::reference}) {
    auto w = graphjit::shared(std::vector<double>{1, 2}, "w");
    auto x = T::dscalar("x");
    auto f = graphjit::function({x}, T::sum(w), {.updates = {{w, w + x}}, .mode = mode});
    auto g = f.copy();
    CHECK(f(1.0).item<double>() == 3);   // w becomes {2, 3}
    CHECK(g(10.0).item<double>() == 5);  // reads the update of f; w becomes {12, 13}
    CHECK(f(0.0).item<double>() == 25);
    CHECK(g.shared_variables().size() == 1);
    CHECK(g.shared_variables()[0].state() == w.state());
  }
}

TEST_CASE("own_shared gives the copy deep copies: neither function's updates reach the other") {
  auto w = graphjit::shared(std::vector<double>{1, 2}, "w");
  auto b = graphjit::shared(0.5, "b");
  auto x = T::dscalar("x");
  auto f = graphjit::function({x}, T::sum(w) + b, {.updates = {{w, w * x}}});
  auto g = f.copy({.own_shared = true});
  CHECK(g(3.0).item<double>() == 3.5);  // its own w becomes {3, 6}
  CHECK(w.get_value().to_vector<double>() == std::vector<double>{1, 2});
  CHECK(f(2.0).item<double>() == 3.5);  // the original's w becomes {2, 4}
  CHECK(g(1.0).item<double>() == 9.5);  // its own w is still {3, 6}
  const auto own = g.shared_variables();
  REQUIRE(own.size() == 2);
  for (const auto& v : own) {
    CHECK(v.state() != w.state());
    CHECK(v.state() != b.state());
  }
  // The copy's variables are the user's to read and set, like any other.
  for (auto v : own)
    if (v.name() == "w") v.set_value(Tensor::from_vector(std::vector<double>{0, 0}));
  CHECK(g(1.0).item<double>() == 0.5);
  CHECK(w.get_value().to_vector<double>() == std::vector<double>{2, 4});
}

TEST_CASE("swap maps some variables, own_shared copies the rest; default updates follow the swap") {
  auto w = graphjit::shared(std::vector<double>{1, 2}, "w");
  auto count = graphjit::shared(0, "count");
  auto other = graphjit::shared(std::vector<double>{10, 20}, "other");
  auto f = graphjit::function({}, T::sum(w), {.updates = {{count, count + 1}}});
  auto g = f.copy({.swap = {{w, other}}, .name = "g"});
  CHECK(g().item<double>() == 30);
  CHECK(count.get_value().item<std::int64_t>() == 1);  // the swap leaves count shared
  auto h = f.copy({.swap = {{w, other}}, .own_shared = true});
  CHECK(h().item<double>() == 30);
  CHECK(count.get_value().item<std::int64_t>() == 1);  // h counts in its own copy of count

  graphjit::RandomStreams rng(7);
  auto draw = graphjit::function({}, rng.uniform({3}));
  auto twin = draw.copy({.own_shared = true});
  const Tensor a = draw(), b = twin();
  CHECK(a.equal(b));  // the copy starts from the stream's state when copied
  const Tensor a2 = draw();
  CHECK_FALSE(a2.equal(a));
  CHECK(twin().only().equal(a2));  // and advances its own state along the same stream
}

TEST_CASE("copy errors name the function and the variable") {
  auto w = graphjit::shared(std::vector<double>{1, 2}, "w");
  auto unrelated = graphjit::shared(std::vector<double>{1, 2}, "unrelated");
  auto m = graphjit::shared(Tensor::zeros({2, 2}, graphjit::float64), "m");
  auto f = graphjit::function({}, T::sum(w), {.name = "f"});
  CHECK(contains(thrown_message<FunctionError>([&] { f.copy({.swap = {{unrelated, w}}}); }),
                 "function 'f': copy(swap): 'unrelated' is not a shared variable the function reads or updates"));
  CHECK(contains(thrown_message<FunctionError>([&] { f.copy({.swap = {{w, m}}}); }), "'w' has type"));
}

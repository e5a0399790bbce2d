// Error paths users reach that no other test triggers: each error is raised,
// is the documented exception type, and names what is wrong and where.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "thrown_message.hpp"

#include <string>

namespace T = graphjit::tensor;
using graphjit::Tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

TEST_CASE("call errors: a broadcastable dim of another length, a number for a non-scalar input") {
  const auto row = T::tensor(graphjit::float64, {true, false}, "row");
  const auto v = T::vector("v");
  for (graphjit::Mode mode : {graphjit::Mode::reference, graphjit::Mode::fast_run}) {
    auto f = graphjit::function({row, v}, {T::sum(row) + T::sum(v)}, {.mode = mode});
    std::string msg = thrown_message<graphjit::FunctionError>(
        [&] { f(Tensor::zeros({2, 3}, graphjit::float64), Tensor({1.0})); });
    CHECK(contains(msg, "input 'row'"));
    CHECK(contains(msg, "dim 0 is broadcastable and must have length 1, got shape (2, 3)"));
    msg = thrown_message<graphjit::FunctionError>([&] { f(Tensor::zeros({1, 3}, graphjit::float64), 2.0); });
    CHECK(contains(msg, "input 'v'"));
    CHECK(contains(msg, "expected a tensor with 1 dimensions, got a number"));
    msg = thrown_message<graphjit::FunctionError>([&] { f(Tensor(), Tensor({1.0})); });
    CHECK(contains(msg, "got an undefined tensor"));
  }
}

TEST_CASE("function build errors: inputs listed twice or not symbolic, updates twice or of the wrong type") {
  const auto x = T::vector("x");
  auto w = graphjit::shared(Tensor({1.0, 2.0}), "w");
  CHECK(contains(thrown_message<graphjit::FunctionError>([&] { graphjit::function({x, x}, {x * 2}); }),
                 "input 'x' is listed twice"));
  CHECK(contains(thrown_message<graphjit::FunctionError>([&] { graphjit::function({w}, {w * 2}); }),
                 "is not a symbolic input"));
  CHECK(contains(thrown_message<graphjit::FunctionError>([&] { graphjit::function({x * 2}, {x}); }),
                 "is not a symbolic input"));
  CHECK(contains(thrown_message<graphjit::FunctionError>(
                     [&] { graphjit::function({x}, {x}, {.updates = {{w, w + x}, {w, w - x}}}); }),
                 "shared variable 'w' is updated twice"));
  const std::string wrong = thrown_message<graphjit::FunctionError>(
      [&] { graphjit::function({x}, {x}, {.updates = {{w, T::sum(w)}}}); });
  CHECK(contains(wrong, "updated shared variable 'w' has type TensorType(float64, vector)"));
  CHECK(contains(wrong, "TensorType(float64, scalar)"));
  CHECK(contains(thrown_message<graphjit::FunctionError>(
                     [&] { graphjit::function({x}, {x}, {.updates = {{w, graphjit::Variable()}}}); }),
                 "the update of 'w' is an undefined Variable"));
  CHECK(contains(thrown_message<graphjit::FunctionError>([&] { graphjit::function({x}, {graphjit::Variable()}); }),
                 "output 0 is an undefined Variable"));
  const auto i = T::vector("i", graphjit::int32);
  CHECK(contains(thrown_message<graphjit::FunctionError>(
                     [&] { graphjit::function({x}, {x * 2}, {.givens = {{x, i}}}); }),
                 "givens variable 'x'"));
}

TEST_CASE("shared and set_value refuse values of another type, naming the variable") {
  CHECK(contains(thrown_message<graphjit::TypeError>([] { graphjit::shared(Tensor(), "u"); }),
                 "shared('u'): the value is an undefined tensor"));
  auto w = graphjit::shared(Tensor({1.0, 2.0}), "w");
  std::string msg = thrown_message<graphjit::TypeError>([&] { w.set_value(Tensor::zeros({2}, graphjit::float32)); });
  CHECK(contains(msg, "shared variable 'w' has type TensorType(float64, vector)"));
  CHECK(contains(msg, "float32 tensor of shape (2,)"));
  msg = thrown_message<graphjit::TypeError>([&] { w.set_value(Tensor::zeros({2, 2}, graphjit::float64)); });
  CHECK(contains(msg, "shape (2, 2)"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { w.set_value(Tensor()); }), "undefined tensor"));
  // A refused value leaves the old one.
  CHECK(w.get_value().to_vector<double>() == std::vector<double>{1, 2});
  // Any length is fine for a non-broadcastable dim.
  w.set_value(Tensor({1.0, 2.0, 3.0}));
  CHECK(w.get_value().shape() == graphjit::Shape{3});
}

TEST_CASE("dimshuffle refuses repeated or missing dims and dropping a dim that is not broadcastable") {
  const auto m = T::matrix("m");
  std::string msg = thrown_message<graphjit::TypeError>([&] { m.dimshuffle({0, 0}); });
  CHECK(contains(msg, "dimshuffle pattern entry 0 is not a distinct dim of the input (ndim 2)"));
  CHECK(contains(msg, "test_error_paths.cpp:"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { m.dimshuffle({0, 2}); }), "entry 2 is not a distinct dim"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { m.dimshuffle({0, -2}); }), "entry -2"));
  msg = thrown_message<graphjit::TypeError>([&] { m.dimshuffle({1}); });
  CHECK(contains(msg, "dimshuffle drops dim 0, which is not broadcastable"));
  const auto col = T::tensor(graphjit::float64, {false, true}, "col");
  CHECK(col.dimshuffle({0}).ndim() == 1);  // a broadcastable dim may be dropped
}

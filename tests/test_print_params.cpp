// debugprint shows the parameters the op-library ops keep in their attrs
// (OpInfo::print_params): two nodes that differ only there print differently.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <string>
#include <vector>

namespace T = graphjit::tensor;
using namespace graphjit;
using namespace graphjit::testing;

TEST_CASE("debugprint shows tensordot's axes and batching") {
  auto a = T::tensor3("a"), b = T::tensor3("b");
  const std::string text = debugprint(T::tensordot(a, b, {2, 0}, {0, 1}));
  INFO(text);
  CHECK(contains(text, "tensordot{axes=[[2,0],[0,1]]}"));
  CHECK(contains(debugprint(T::batched_dot(a, b)), "tensordot{batched, axes=[[2],[1]]}"));
  CHECK(contains(debugprint(T::tensordot(T::matrix("m"), T::matrix("n"), 1)), "tensordot{axes=[[1],[0]]}"));
}

TEST_CASE("debugprint shows the axis and flags of the cumulative, sort, repeat, split, broadcast and LAPACK ops") {
  auto x = T::matrix("x");
  const std::vector<std::pair<Variable, std::string>> cases = {
      {T::cumsum(x, 1), "cumsum{axis=1}"},
      {T::cumprod(x, 0), "cumprod{axis=0}"},
      {T::sort(x, 0), "sort{axis=0}"},
      {T::argsort(x), "argsort{axis=1}"},
      {T::repeat(x, 2, 1), "repeat{axis=1}"},
      {T::split(x, std::vector<std::int64_t>{1, 2}, 1)[1], "split{axis=1, part 1 of 2}"},
      {T::addbroadcast(x, 0), "rebroadcast{broadcastable=(True, False)}"},
      {T::nlinalg::eigh(x).first, "eigh{eigenvalues}"},
      {T::nlinalg::eigh(x).second, "eigh{eigenvectors}"},
      {T::slinalg::solve_triangular(x, x, 1, true), "solve_triangular{lower=True, trans=1, unit_diagonal=False}"},
  };
  for (const auto& [v, want] : cases) {
    const std::string text = debugprint(v);
    INFO(text);
    CHECK(contains(text, want));
  }
  // The gradient of cumsum accumulates from the end.
  CHECK(contains(debugprint(grad(T::cumsum(x, 1).sum(), x)), "cumsum{axis=1, reverse}"));
}

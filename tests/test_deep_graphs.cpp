// Graphs far deeper than the call stack: a chain of a million nodes is
// built, ordered, differentiated, printed and released without recursion
// (each would overflow an 8 MB stack well before a million levels).
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/graph.hpp"

#include <algorithm>
#include <string>

namespace T = graphjit::tensor;
using graphjit::Variable;

namespace {
constexpr int kDepth = 1000000;

// -(-(...(x))): one new node per step, each the only user of the last.
Variable chain(const Variable& x, int depth) {
  Variable y = x;
  for (int i = 0; i < depth; ++i) y = -y;
  return y;
}
}  // namespace

TEST_CASE("a million-node chain: toposort, grad, debugprint and destruction") {
  const auto x = T::scalar("x");
  {
    const Variable y = chain(x, kDepth);
    CHECK(graphjit::ir::toposort({y.node()}).size() == kDepth + 1);

    // d/dx: a second chain, -g at each step.
    const Variable g = graphjit::grad(y, x);
    CHECK(graphjit::ir::toposort({g.node()}).size() == kDepth + 1);

    // One line per node; indentation stops growing, the depth is written instead.
    const std::string text = graphjit::debugprint(y);
    CHECK(std::count(text.begin(), text.end(), '\n') == kDepth + 1);
    CHECK(text.find(" | | (depth 1000000) x [id") != std::string::npos);
  }  // y, g and their chains are released here
  // Releasing a chain that is still shared stops at the shared part.
  const Variable base = chain(x, 1000);
  { const Variable top = chain(base, kDepth); }
  CHECK(graphjit::ir::toposort({base.node()}).size() == 1001);
}

TEST_CASE("a function keeps its graph alive after the user's variables are released") {
  // The iterative destructor must not take apart nodes someone else still holds.
  const auto x = T::scalar("x");
  Variable y = chain(x, 11) * 2;
  auto f = graphjit::function({x}, {y}, {.mode = graphjit::Mode::reference});
  y = Variable();
  CHECK(f(1.5)[0].item<double>() == -3);
}

// Errors point at the user's line: every node a user builds records where,
// whether through a free function (T::sum(x)), an operator (x + 1) or a
// member function (x.sum(), x[i], x.reshape(...)).
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/node.hpp"
#include "thrown_message.hpp"

#include <filesystem>
#include <source_location>
#include <string>

namespace T = graphjit::tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {
// Where a variable's node says it was built: "file.cpp:line".
std::string built_at(const Variable& v) {
  const std::source_location& where = v.node()->where;
  return std::filesystem::path(where.file_name()).filename().string() + ":" + std::to_string(where.line());
}
std::string here(std::source_location where = std::source_location::current()) {
  return "test_source_locations.cpp:" + std::to_string(where.line());
}
}  // namespace

TEST_CASE("member functions of Variable record the user's line") {
  const auto x = T::matrix("x");
  const auto i = T::scalar("i", graphjit::int64);
  const auto rows = T::vector("rows", graphjit::int64);
  // Each check is on the line that builds the node.
  CHECK(built_at(x[i]) == here());
  CHECK(built_at(x[1]) == here());
  CHECK(built_at(x[T::slice(1, 3)]) == here());
  CHECK(built_at(x[{i, T::slice()}]) == here());
  CHECK(built_at(x[{rows, rows}]) == here());
  CHECK(built_at(x.T()) == here());
  CHECK(built_at(x.dimshuffle({1, 0})) == here());
  CHECK(built_at(x.reshape(std::vector<std::int64_t>{-1})) == here());
  CHECK(built_at(x.reshape(std::vector<Variable>{x.shape(0), x.shape(1)})) == here());
  CHECK(built_at(x.flatten()) == here());
  CHECK(built_at(x.shape()) == here());
  CHECK(built_at(x.shape(1)) == here());
  CHECK(built_at(x.astype(graphjit::float32)) == here());
  CHECK(built_at(x.sum()) == here());
  CHECK(built_at(x.mean(std::vector<int>{0})) == here());
  CHECK(built_at(x.max(std::vector<int>{1}, true)) == here());
  CHECK(built_at(x.argmax(1)) == here());
}

TEST_CASE("a run-time error in an indexing expression names the user's line") {
  for (graphjit::Mode mode : {graphjit::Mode::reference, graphjit::Mode::fast_run}) {
    const auto v = T::vector("v");
    const Variable picked = v[7]; const std::string line = here();
    auto f = graphjit::function({v}, {picked * 2}, {.mode = mode});
    const std::string msg = thrown_message([&] { f(graphjit::Tensor({1.0, 2.0})); });
    CHECK(contains(msg, line));
    CHECK_FALSE(contains(msg, "variable.cpp"));
  }
}

// Mode::debug compares every compiled step with the reference evaluator. A
// debug mode that compared nothing would pass every other test, so here a
// deliberately wrong native kernel is put into the op table: fast_run then
// returns the wrong values silently, and debug mode must refuse them, naming
// the node and the user's line.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include "compiler/ir/op_info.hpp"
#include "thrown_message.hpp"

namespace T = graphjit::tensor;
using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

graphjit::ir::NativeKernel::Function correct_concatenate = nullptr;

// Concatenate's native kernel, off by one in its first element.
graphjit::Tensor wrong_concatenate(const graphjit::ir::Node& node, const std::vector<graphjit::Tensor>& inputs,
                                   graphjit::ir::OutputMemory& out) {
  graphjit::Tensor value = correct_concatenate(node, inputs, out).copy();
  value.set({0}, value.get({0}) + 1);
  return value;
}

// Swaps the kernel in for one scope.
class WrongConcatenate {
 public:
  WrongConcatenate() : info_(graphjit::ir::define_op(graphjit::ir::OpCode::Concatenate)) {
    graphjit::ir::op_info(graphjit::ir::OpCode::Concatenate);  // the library is installed first
    correct_concatenate = info_.native.run;
    info_.native.run = wrong_concatenate;
  }
  ~WrongConcatenate() { info_.native.run = correct_concatenate; }

 private:
  graphjit::ir::OpInfo& info_;
};

}  // namespace

TEST_CASE("debug mode reports a compiled step that disagrees with the reference, naming the node and line") {
  const auto v = T::vector("v");
  const auto joined = T::concatenate({v * 2, v});
  const graphjit::Tensor arg({1.0, 2.0});
  const std::vector<double> right{2, 4, 1, 2};
  WrongConcatenate wrong;
  // The fault is real: fast_run passes it on.
  auto fast = graphjit::function({v}, {joined}, {.mode = graphjit::Mode::fast_run});
  CHECK(fast(arg)[0].to_vector<double>() == std::vector<double>{3, 4, 1, 2});
  auto debug = graphjit::function({v}, {joined}, {.mode = graphjit::Mode::debug});
  const std::string msg = thrown_message<graphjit::FunctionError>([&] { debug(arg); });
  CHECK(contains(msg, "debug mode: the compiled code computes"));
  CHECK(contains(msg, "concatenate("));
  CHECK(contains(msg, "test_debug_mode_mismatch.cpp:47"));
  CHECK(contains(msg, "3 instead of 2 at index (0,)"));
  CHECK(contains(msg, "the reference evaluator disagrees"));
  // The reference mode is untouched by the native kernel.
  CHECK(graphjit::function({v}, {joined}, {.mode = graphjit::Mode::reference})(arg)[0].to_vector<double>() == right);
}

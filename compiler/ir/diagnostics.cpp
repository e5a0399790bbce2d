#include "compiler/ir/diagnostics.hpp"

#include "compiler/ir/op_info.hpp"

#include <fmt/format.h>

namespace graphjit::ir {

std::string describe(const Node& node) {
  std::string args;
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    args += fmt::format("{}{}: {}", i ? ", " : "", node.inputs[i]->label(), node.inputs[i]->type.str());
  return fmt::format("{}({}) built at {}", op_info(node.op).name, args, where_str(node.where));
}

void type_error(const Node& node, const std::string& what) {
  throw TypeError(fmt::format("{}: {}", describe(node), what));
}

namespace {
// "x(3, 4), W(4,)"
std::string input_shapes(const Node& node, const std::vector<Tensor>& inputs) {
  std::string shapes;
  for (std::size_t i = 0; i < inputs.size() && i < node.inputs.size(); ++i)
    shapes += fmt::format("{}{}{}", i ? ", " : "", node.inputs[i]->label(), shape_str(inputs[i].shape()));
  return shapes;
}
}  // namespace

void shape_error(const Node& node, const std::vector<Tensor>& inputs, const std::string& what) {
  throw ShapeError(fmt::format("{}: {} (input shapes: {})", describe(node), what, input_shapes(node, inputs)));
}

Tensor run_reference(const Node& node, const std::vector<Tensor>& inputs) {
  try {
    return op_info(node.op).reference(node, inputs);
  } catch (const AllocationError& e) {
    throw AllocationError(fmt::format("{}: {} (input shapes: {}); the result is too large for this machine's memory",
                                      describe(node), e.what(), input_shapes(node, inputs)));
  } catch (const std::overflow_error& e) {
    shape_error(node, inputs, e.what());
  }
}

}  // namespace graphjit::ir

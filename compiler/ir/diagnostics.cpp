#include "compiler/ir/diagnostics.hpp"

#include "compiler/ir/op_info.hpp"

#include <fmt/format.h>

#include <string_view>

namespace graphjit::ir {

std::string describe(const Node& node) {
  std::string args;
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    args += fmt::format("{}{}: {}", i ? ", " : "", node.inputs[i]->label(), node.inputs[i]->type.str());
  // A user op is named by the user's name for it: custom{cube}.
  const std::string op = node.op == OpCode::Custom ? node.head() : op_info(node.op).name;
  return fmt::format("{}({}) built at {}", op, args, where_str(node.where));
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

void linalg_error(const Node& node, const std::vector<Tensor>& inputs, const std::string& what) {
  throw LinAlgError(fmt::format("{}: {} (input shapes: {})", describe(node), what, input_shapes(node, inputs)));
}

Tensor run_reference(const Node& node, const std::vector<Tensor>& inputs) {
  return op_info(node.op).reference(node, inputs);
}

void rethrow_naming_node(const Node& node, const std::vector<Tensor>& inputs) {
  try {
    throw;
  } catch (const AllocationError& e) {
    if (std::string_view(e.what()).starts_with(describe(node))) throw;  // named already (a kernel calling a kernel)
    throw AllocationError(fmt::format("{}: {} (input shapes: {}); the result is too large for this machine's memory",
                                      describe(node), e.what(), input_shapes(node, inputs)));
  } catch (const std::overflow_error& e) {
    shape_error(node, inputs, e.what());
  }
}

}  // namespace graphjit::ir

#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <filesystem>
#include <fmt/format.h>

namespace graphjit::ops {

std::string where_str(const std::source_location& where) {
  if (where.file_name() == nullptr || where.line() == 0) return "<unknown>";
  return fmt::format("{}:{}", std::filesystem::path(where.file_name()).filename().string(), where.line());
}

std::string describe(const ir::Node& node) {
  std::string args;
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    args += fmt::format("{}{}: {}", i ? ", " : "", node.inputs[i]->label(), node.inputs[i]->type.str());
  return fmt::format("{}({}) built at {}", ir::op_info(node.op).name, args, where_str(node.where));
}

void type_error(const ir::Node& node, const std::string& what) {
  throw TypeError(fmt::format("{}: {}", describe(node), what));
}

namespace {
// "x(3, 4), W(4,)"
std::string input_shapes(const ir::Node& node, const std::vector<Tensor>& inputs) {
  std::string shapes;
  for (std::size_t i = 0; i < inputs.size() && i < node.inputs.size(); ++i)
    shapes += fmt::format("{}{}{}", i ? ", " : "", node.inputs[i]->label(), shape_str(inputs[i].shape()));
  return shapes;
}
}  // namespace

void shape_error(const ir::Node& node, const std::vector<Tensor>& inputs, const std::string& what) {
  throw ShapeError(fmt::format("{}: {} (input shapes: {})", describe(node), what, input_shapes(node, inputs)));
}

Tensor run_naming_node(Tensor (*kernel)(const ir::Node&, const std::vector<Tensor>&), const ir::Node& node,
                       const std::vector<Tensor>& inputs) {
  try {
    return kernel(node, inputs);
  } catch (const AllocationError& e) {
    throw AllocationError(fmt::format("{}: {} (input shapes: {}); the result is too large for this machine's memory",
                                      describe(node), e.what(), input_shapes(node, inputs)));
  } catch (const std::overflow_error& e) {
    shape_error(node, inputs, e.what());
  }
}

Variable apply(ir::OpCode op, const std::vector<Variable>& inputs, ir::Attrs attrs, std::source_location where) {
  std::vector<ir::NodeRef> nodes;
  nodes.reserve(inputs.size());
  for (const Variable& v : inputs) {
    if (!v.defined())
      throw TypeError(fmt::format("{} at {}: an input is an undefined Variable (default-constructed or an empty gradient)",
                                  ir::op_info(op).name, where_str(where)));
    nodes.push_back(v.node());
  }
  return Variable(ir::make(op, std::move(nodes), std::move(attrs), where));
}

int normalize_axis(const ir::Node& node, std::int64_t axis, int ndim) {
  if (ndim == 0 || axis < -ndim || axis >= ndim)
    type_error(node, fmt::format("axis {} is out of range for an input of {} dimensions", axis, ndim));
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

Variable sum_to_input(const Variable& g, const ir::Node& input) {
  std::vector<int> axes;
  for (int d = 0; d < input.type.ndim(); ++d)
    if (input.type.broadcastable[d] && !g.broadcastable()[d]) axes.push_back(d);
  Variable out = axes.empty() ? g : tensor::sum(g, axes, /*keepdims=*/true);
  if (out.dtype() != input.type.dtype) out = tensor::cast(out, input.type.dtype);
  return out;
}

}  // namespace graphjit::ops

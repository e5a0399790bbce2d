// Print (theano.printing.Print): passes its input through and, whenever the
// function runs, prints a message with the value or with chosen attributes
// (shape, dtype, min, max, mean, sum) to stdout. Its side_effect flag keeps
// the rewrites from folding, merging or removing it; compiled, it is a native
// step of its own whose output is a declared view of its input.
#include "frontend/ops/op_support.hpp"

#include <graphjit/runtime/format.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>

namespace graphjit {

namespace {

// The attributes Print can show, in the order of their codes in attrs.ints.
constexpr const char* kAttributes[] = {"value", "shape", "dtype", "min", "max", "mean", "sum"};
enum Attribute : std::int64_t { kValue, kShape, kDType, kMin, kMax, kMean, kSum };

std::string attribute_text(std::int64_t attribute, const Tensor& x) {
  switch (attribute) {
    case kValue: return x.to_string();
    case kShape: return shape_str(x.shape());
    case kDType: return dtype_name(x.dtype());
    default: break;
  }
  if (x.size() == 0) return "(empty)";
  const Tensor values = x.astype(float64).contiguous();
  const double* v = values.data<double>();
  const auto n = static_cast<std::size_t>(values.size());
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += v[i];
  switch (attribute) {
    case kMin: return fmt::format("{}", *std::min_element(v, v + n, [](double a, double b) { return a < b || a != a; }));
    case kMax: return fmt::format("{}", *std::max_element(v, v + n, [](double a, double b) { return a < b || b != b; }));
    case kMean: return fmt::format("{}", sum / static_cast<double>(n));
    case kSum: return fmt::format("{}", sum);
    default: return "?";
  }
}

}  // namespace

namespace ir {

namespace {

Type print_type(const Node& node) { return node.inputs[0]->type; }

Shape print_shape(const Node&, const std::vector<Tensor>& inputs) { return inputs[0].shape(); }

void print_message(const Node& node, const std::vector<Tensor>& inputs) {
  std::string text;
  for (std::int64_t attribute : node.attrs.ints)
    text += fmt::format("{} {} = {}\n", node.attrs.text, kAttributes[attribute], attribute_text(attribute, inputs[0]));
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

// The oracle returns a copy, so the reference evaluator never aliases values.
Tensor print_reference(const Node& node, const std::vector<Tensor>& inputs) {
  print_message(node, inputs);
  return inputs[0].copy();
}

// Compiled, the value passes through as a view (Print declares view_of = 0,
// so the memory planner keeps the input alive as long as the output).
Tensor print_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory&) {
  print_message(node, inputs);
  return inputs[0];
}

// The gradient passes through unprinted, as Theano's does.
std::vector<Variable> print_grad(const Node&, const Variable&, const Variable& output_grad) { return {output_grad}; }

}  // namespace

void register_print_op() {
  define_op(OpCode::Print, {print_type, print_shape, print_reference, print_grad, print_native, /*view_of=*/0});
  define_op(OpCode::Print).side_effect = true;
}

}  // namespace ir

namespace tensor {

Variable print(const Variable& x, std::string message, const std::vector<std::string>& attrs, SL where) {
  ir::Attrs a;
  a.text = std::move(message);
  for (const std::string& name : attrs.empty() ? std::vector<std::string>{"value"} : attrs) {
    const auto* it = std::find(std::begin(kAttributes), std::end(kAttributes), name);
    if (it == std::end(kAttributes))
      throw TypeError(fmt::format("print(\"{}\") at {}: there is no attribute '{}' to print; the attributes are: {}",
                                  a.text, ops::where_str(where), name, fmt::join(kAttributes, ", ")));
    a.ints.push_back(it - std::begin(kAttributes));
  }
  return ops::apply(ir::OpCode::Print, {x}, std::move(a), where);
}

}  // namespace tensor

}  // namespace graphjit

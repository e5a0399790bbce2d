#include "compiler/ir/node.hpp"

#include "compiler/ir/scan_body.hpp"

#include "compiler/ir/op_info.hpp"

#include <graphjit/errors.hpp>

#include <atomic>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace graphjit::ir {

namespace {
std::uint64_t next_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}
}  // namespace

std::string Type::str() const {
  static const char* names[] = {"scalar", "vector", "matrix", "tensor3", "tensor4"};
  bool all_false = true;
  for (bool b : broadcastable) all_false = all_false && !b;
  if (all_false && ndim() < 5) return fmt::format("TensorType({}, {})", dtype_name(dtype), names[ndim()]);
  std::string pattern;
  for (std::size_t i = 0; i < broadcastable.size(); ++i)
    pattern += fmt::format("{}{}", i ? ", " : "", broadcastable[i] ? "True" : "False");
  if (broadcastable.size() == 1) pattern += ",";
  return fmt::format("TensorType({}, ({}))", dtype_name(dtype), pattern);
}

Node::~Node() {
  // Inputs this node holds the last reference to are taken apart here, one
  // at a time, each emptied of its own inputs before it is destroyed.
  std::vector<NodeRef> pending = std::move(inputs);
  while (!pending.empty()) {
    NodeRef node = std::move(pending.back());
    pending.pop_back();
    // use_count 1: no other owner exists (nodes are not weakly referenced),
    // so none can appear while the inputs are moved out.
    if (node.use_count() == 1) {
      auto& owned = const_cast<Node&>(*node);
      for (NodeRef& in : owned.inputs) pending.push_back(std::move(in));
      owned.inputs.clear();
    }
  }
}

std::string Node::label() const {
  if (!name.empty()) return name;
  return fmt::format("{}.{}", op_info(op).name, id);
}

std::string Node::head() const {
  switch (op) {
    case OpCode::Input: return label();
    case OpCode::Shared: return label().empty() ? "<shared>" : label();
    case OpCode::Constant:
      return value.size() == 1 ? fmt::format("{{{}}}", value.get(std::vector<std::int64_t>(value.ndim(), 0)))
                               : fmt::format("constant{}", shape_str(value.shape()));
    default: break;
  }
  std::string params;
  if (!attrs.axes.empty()) params += fmt::format("axis={}", fmt::join(attrs.axes, ","));
  if (op == OpCode::DimShuffle)  // Theano's spelling: 'x' for a new broadcastable dimension
    for (std::size_t i = 0; i < attrs.ints.size(); ++i)
      params += fmt::format("{}{}", i ? "," : "", attrs.ints[i] < 0 ? "x" : std::to_string(attrs.ints[i]));
  if (op == OpCode::Cast) params += dtype_name(attrs.dtype);
  if (op == OpCode::Custom) params += attrs.text;  // the user op's name (frontend/ops/custom.cpp)
  if (op == OpCode::Scan && attrs.scan && !attrs.ints.empty()) {
    const auto j = static_cast<std::size_t>(attrs.ints[0]);
    params += fmt::format("{}, output {}{}", attrs.scan->name, j,
                          j < attrs.scan->outputs.size() && attrs.scan->outputs[j].last_only ? ", last state only" : "");
  }
  if (op == OpCode::CrossentropyCategorical && attrs.ints == std::vector<std::int64_t>{1}) params += "of_log_probs";
  if (op == OpCode::Gemm)
    params += fmt::format("{}{}alpha={}, beta={}", attrs.trans_a ? "trans_a, " : "", attrs.trans_b ? "trans_b, " : "",
                          attrs.alpha, attrs.beta);
  if (const auto print = op_info(op).print_params) params += (params.empty() ? "" : ", ") + print(*this);
  return params.empty() ? op_info(op).name : fmt::format("{}{{{}}}", op_info(op).name, params);
}

std::string where_str(const std::source_location& where) {
  if (where.file_name() == nullptr || where.line() == 0) return "<unknown>";
  return fmt::format("{}:{}", std::filesystem::path(where.file_name()).filename().string(), where.line());
}

NodeRef make(OpCode op, std::vector<NodeRef> inputs, Attrs attrs, std::source_location where) {
  const OpInfo& info = op_info(op);
  if (info.arity >= 0 && static_cast<int>(inputs.size()) != info.arity)
    throw TypeError(fmt::format("{}: takes {} inputs, got {}", info.name, info.arity, inputs.size()));
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i]) throw TypeError(fmt::format("{}: input {} is an undefined variable", info.name, i));
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->attrs = std::move(attrs);
  node->where = where;
  node->type = info.infer_type(*node);
  node->id = next_id();
  return node;
}

NodeRef make_input(Type type, std::string name, std::source_location where) {
  auto node = std::make_shared<Node>();
  node->op = OpCode::Input;
  node->type = std::move(type);
  node->name = std::move(name);
  node->where = where;
  node->id = next_id();
  return node;
}

NodeRef make_constant(Tensor value, std::source_location where) {
  auto node = std::make_shared<Node>();
  node->op = OpCode::Constant;
  node->type = Type{value.dtype(), std::vector<bool>(static_cast<std::size_t>(value.ndim()), false)};
  for (int d = 0; d < value.ndim(); ++d) node->type.broadcastable[d] = value.shape(d) == 1;
  node->value = std::move(value);
  node->where = where;
  node->id = next_id();
  return node;
}

NodeRef make_shared(std::shared_ptr<SharedState> state, Type type, std::string name, std::source_location where) {
  auto node = std::make_shared<Node>();
  node->op = OpCode::Shared;
  node->type = std::move(type);
  node->name = std::move(name);
  node->shared = std::move(state);
  node->where = where;
  node->id = next_id();
  return node;
}

NodeRef rebuild(const Node& node, std::vector<NodeRef> inputs) {
  auto copy = std::make_shared<Node>(node);
  copy->inputs = std::move(inputs);
  copy->type = op_info(node.op).infer_type(*copy);
  copy->id = next_id();
  return copy;
}

}  // namespace graphjit::ir

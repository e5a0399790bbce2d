#include "compiler/view/graph_view.hpp"

#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"

#include <graphjit/runtime/shared_state.hpp>

#include <fmt/format.h>
#include <unordered_map>

namespace graphjit::view {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::input: return "input";
    case Kind::shared: return "shared";
    case Kind::constant: return "constant";
    case Kind::op: return "op";
    case Kind::output: return "output";
    case Kind::update: return "update";
  }
  return "?";
}

std::string type_label(const ir::Type& type) {
  std::string pattern;
  for (std::size_t d = 0; d < type.broadcastable.size(); ++d) pattern += fmt::format("{}{}", d ? "," : "", type.broadcastable[d] ? 'T' : 'F');
  return fmt::format("{} ({})", dtype_name(type.dtype), pattern);
}

namespace {

Kind kind_of(const ir::Node& node) {
  switch (node.op) {
    case ir::OpCode::Input: return Kind::input;
    case ir::OpCode::Shared: return Kind::shared;
    case ir::OpCode::Constant: return Kind::constant;
    default: return Kind::op;
  }
}

std::string known_shape(const ir::Node& node) {
  if (node.op == ir::OpCode::Constant) return shape_str(node.value.shape());
  if (node.op == ir::OpCode::Shared && node.shared && node.shared->value.defined()) return shape_str(node.shared->value.shape());
  return "";
}

}  // namespace

Node view_node(const ir::Node& node, std::string id) {
  Node n;
  n.id = std::move(id);
  n.kind = kind_of(node);
  n.op = n.kind == Kind::op ? node.head() : kind_name(n.kind);
  n.name = node.name;
  n.type = node.type.str();
  n.shape = known_shape(node);
  n.where = ir::where_str(node.where);
  if (n.kind == Kind::op) n.label = node.name.empty() ? n.op : node.name + "\n" + n.op;
  else if (n.kind == Kind::constant) n.label = node.name.empty() ? node.head() : node.name;
  else n.label = node.label();
  return n;
}

GraphView view_of(const std::vector<Root>& roots, std::string title) {
  GraphView view;
  view.title = std::move(title);
  std::vector<ir::NodeRef> outputs;
  for (const Root& root : roots) outputs.push_back(root.node);

  std::unordered_map<const ir::Node*, std::string> ids;
  const std::vector<ir::NodeRef> order = ir::toposort(outputs);
  for (const ir::NodeRef& node : order) {
    const std::string id = fmt::format("n{}", ids.size());
    ids.emplace(node.get(), id);
    view.nodes.push_back(view_node(*node, id));
    const bool several = node->inputs.size() > 1;
    for (std::size_t i = 0; i < node->inputs.size(); ++i) {
      const ir::Node& in = *node->inputs[i];
      view.edges.push_back({ids.at(&in), id, (several ? fmt::format("{}: ", i) : "") + type_label(in.type)});
    }
  }

  int outputs_seen = 0, updates_seen = 0;
  for (const Root& root : roots) {
    Node n;
    n.kind = root.updates ? Kind::update : Kind::output;
    n.id = root.updates ? fmt::format("upd{}", updates_seen++) : fmt::format("out{}", outputs_seen++);
    n.label = root.label;
    n.op = kind_name(n.kind);
    n.type = root.node->type.str();
    n.where = ir::where_str(root.node->where);
    view.edges.push_back({ids.at(root.node.get()), n.id, type_label(root.node->type)});
    // The shared variable the update writes, when the graph shows it.
    if (root.updates)
      for (const ir::NodeRef& node : order)
        if (node->op == ir::OpCode::Shared && node->shared == root.updates)
          view.edges.push_back({n.id, ids.at(node.get()), "writes", true});
    view.nodes.push_back(std::move(n));
  }
  return view;
}

}  // namespace graphjit::view

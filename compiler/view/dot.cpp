#include "compiler/view/dot.hpp"

#include <fmt/format.h>

namespace graphjit::view {

namespace {

// A DOT string literal: quotes and backslashes escaped, newlines as DOT's \n.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

const char* style_of(Kind kind) {
  switch (kind) {
    case Kind::input: return R"(shape=ellipse, style=filled, fillcolor="#c6efce")";
    case Kind::shared: return R"(shape=cylinder, style=filled, fillcolor="#bdd7ee")";
    case Kind::constant: return R"(shape=box, style="filled,rounded", fillcolor="#e7e6e6", fontsize=9)";
    case Kind::op: return R"(shape=box, style=filled, fillcolor="#fff2cc")";
    case Kind::output: return R"(shape=house, style=filled, fillcolor="#d9d2e9")";
    case Kind::update: return R"(shape=house, style=filled, fillcolor="#ffd966")";
  }
  return "";
}

std::string tooltip(const Node& node) {
  std::string text = node.op == kind_name(node.kind) ? node.op : fmt::format("{} {}", kind_name(node.kind), node.op);
  text += ": " + node.type;
  if (!node.shape.empty()) text += ", shape " + node.shape;
  if (!node.where.empty()) text += ", built at " + node.where;
  for (const auto& [key, value] : node.details) text += ", " + key + " " + value;
  return text;
}

}  // namespace

std::string to_dot(const GraphView& view) {
  std::string out = fmt::format("digraph {} {{\n", quoted(view.title));
  out += fmt::format("  graph [label={}, labelloc=t, fontname=\"Helvetica\"];\n", quoted(view.title));
  out += "  node [fontname=\"Helvetica\", fontsize=11];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (const Node& node : view.nodes)
    out += fmt::format("  {} [label={}, {}, tooltip={}];\n", node.id, quoted(node.label), style_of(node.kind),
                       quoted(tooltip(node)));
  for (const Group& group : view.groups) {
    out += fmt::format("  subgraph {} {{\n    label={};\n    style=dashed;\n    color=\"#7f7f7f\";\n",
                       quoted("cluster_" + group.id), quoted(group.label));
    for (const std::string& member : group.members) out += fmt::format("    {};\n", member);
    out += "  }\n";
  }
  for (const Edge& edge : view.edges)
    out += fmt::format("  {} -> {} [label={}{}];\n", edge.from, edge.to, quoted(edge.label),
                       edge.writes ? ", style=dashed, constraint=false" : "");
  return out + "}\n";
}

}  // namespace graphjit::view

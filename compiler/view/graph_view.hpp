// What a picture of a graph shows, apart from how it is drawn: the nodes with
// their kind, label, type, shape and source line, the edges with dtype and
// broadcast pattern, and groups of nodes (a fused kernel). dot.cpp draws it
// with Graphviz, html_view.cpp as an interactive page; both read only this,
// so a view of the schedule, or profiled times, is more fields here rather
// than another printer.
#pragma once

#include "compiler/ir/node.hpp"

#include <memory>
#include <string>
#include <vector>

namespace graphjit::view {

enum class Kind { input, shared, constant, op, output, update };
const char* kind_name(Kind kind);  // "input", "shared", ...

struct Node {
  std::string id;     // unique in the view, and the same for the same graph: "n0", "out1", "upd0"
  Kind kind = Kind::op;
  std::string label;  // what the picture shows: the user's name, the op, a scalar constant's value
  std::string op;     // the op's name ("dot", "sum{axis=1}"); the leaf kind for leaves
  std::string name;   // the user's name, if any
  std::string type;   // "TensorType(float64, matrix)"
  std::string shape;  // "(784, 128)" where known before running (constants, shared variables)
  std::string where;  // where the user's code built it: "model.cpp:12"
  // More facts, shown in tooltips in this order: a schedule's step, buffer
  // and in-place write, a profile's times ("step", "buffer", "time_ms", ...).
  std::vector<std::pair<std::string, std::string>> details = {};
};

struct Edge {
  std::string from, to;
  std::string label;     // dtype and broadcast pattern, with the input's position when the op has several
  bool writes = false;   // from an update to the shared variable it writes
};

// Nodes drawn together, e.g. the elementwise nodes one fused kernel computes.
struct Group {
  std::string id, label;
  std::vector<std::string> members;  // node ids
};

struct GraphView {
  std::string title;
  std::vector<Node> nodes;  // inputs before the nodes that read them
  std::vector<Edge> edges;
  std::vector<Group> groups;
};

// A graph to show: one entry per output; `updates` set for the value an update writes into a shared variable.
struct Root {
  ir::NodeRef node;
  std::string label;                     // "loss", "output 0", "update of W"
  std::shared_ptr<SharedState> updates;  // null for an output
};

GraphView view_of(const std::vector<Root>& roots, std::string title);

// One graph node as a view node (kind, label, op, name, type, known shape, source line).
Node view_node(const ir::Node& node, std::string id);

// "float64 (F,T)": dtype and broadcastable pattern, T for a dimension of length 1.
std::string type_label(const ir::Type& type);

}  // namespace graphjit::view

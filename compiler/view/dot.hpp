// A graph view as Graphviz DOT (Theano's pydotprint): `dot -Tsvg` or `-Tpng`
// renders it. Inputs are green ellipses, shared variables blue cylinders,
// constants grey rounded boxes, ops yellow boxes, outputs purple and updates
// orange house shapes with a dashed edge to the shared variable they write;
// groups (fused kernels) are dashed clusters. Edges carry dtype and
// broadcast pattern; nodes carry a tooltip with type, shape and source line.
#pragma once

#include "compiler/view/graph_view.hpp"

#include <string>

namespace graphjit::view {

std::string to_dot(const GraphView& view);

}  // namespace graphjit::view

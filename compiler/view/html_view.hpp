// A graph view as one self-contained HTML page (inline script and style, no
// network): pan and zoom, a search box that finds nodes by name, tooltips with
// kind, op, type, shape and source line, groups (fused kernels) that collapse
// into one node and expand into their inner expression.
//
// The page is driven by the view as JSON, embedded in a
// <script type="application/json" id="graph-data"> element: extra fields on a
// node (e.g. "time_ms" and "share" from a profile) are shown in its tooltip,
// so a schedule or profile view adds data, not another page. The layout is
// computed in the page (layered by depth, ordered by the barycentre of
// neighbours): it needs no Graphviz when the file is written, and it must be
// redone in the page anyway when a group expands.
// Opening page.html#search=loss selects the first node matching "loss".
#pragma once

#include "compiler/view/graph_view.hpp"

#include <string>

namespace graphjit::view {

// {"title":..., "nodes":[{"id","kind","label","op","name","type","shape","where"}],
//  "edges":[{"from","to","label","writes"}], "groups":[{"id","label","members"}]}
std::string to_json(const GraphView& view);
std::string to_html(const GraphView& view);

}  // namespace graphjit::view

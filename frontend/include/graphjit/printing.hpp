// theano.printing: graphs as indented text (debugprint), as Graphviz DOT
// pictures (pydotprint) and as an interactive HTML page (beyond d3viz).
#pragma once

#include <graphjit/function.hpp>
#include <graphjit/variable.hpp>

#include <string>
#include <vector>

namespace graphjit {

namespace printing {
// Which graph of a function: as built (givens substituted, before any rewrite),
// as compiled (after the rewrites), or the schedule that runs it: fused
// kernels as groups of their ops, gemm and other native calls, buffers and
// in-place writes, and, when the function is profiled, each step's time.
// debugprint prints the schedule as text after the optimized graph for both
// after and schedule.
enum class Stage { before, after, schedule };
}  // namespace printing

// One line per node: op, name, type and id; a subtree seen before is printed
// once and referred to by its id afterwards.
std::string debugprint(const Variable& v);
std::string debugprint(const std::vector<Variable>& vs);
// The function's graph after its rewrites (outputs and updates), or before them.
std::string debugprint(const Function& f, printing::Stage stage = printing::Stage::after);

namespace printing {

// Graphviz DOT: inputs, shared variables, constants, ops, outputs and updates
// drawn distinctly, edges labelled with dtype and broadcast pattern, the
// user's names as labels. Render with `dot -Tsvg` (Debian's graphviz).
std::string to_dot(const Variable& v);
std::string to_dot(const std::vector<Variable>& vs);
std::string to_dot(const Function& f, Stage stage = Stage::after);

// One self-contained HTML file (no network): pan, zoom, search by name,
// tooltips with type, shape and source line.
std::string to_html(const Variable& v);
std::string to_html(const std::vector<Variable>& vs);
std::string to_html(const Function& f, Stage stage = Stage::after);

// Writes the picture to `path`, its format from the extension: .dot (the DOT
// text), .svg, .png or .pdf (rendered by Graphviz's `dot`, which must be
// installed), .html (to_html). The file is replaced only when all went well.
void pydotprint(const Variable& v, const std::string& path);
void pydotprint(const std::vector<Variable>& vs, const std::string& path);
void pydotprint(const Function& f, const std::string& path, Stage stage = Stage::after);

}  // namespace printing

}  // namespace graphjit

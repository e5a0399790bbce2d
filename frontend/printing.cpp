// debugprint: Theano's indented graph listing (compiler/ir/printer.cpp), and
// for a compiled function after its rewrites, the schedule it runs
// (compiler/lower).
#include <graphjit/printing.hpp>

#include "compiler/ir/printer.hpp"
#include "compiler/lower/lower.hpp"
#include "frontend/function_impl.hpp"

namespace graphjit {

std::string debugprint(const std::vector<Variable>& vs) {
  std::vector<ir::NodeRef> roots;
  for (const Variable& v : vs) roots.push_back(v.node());
  return ir::debugprint(roots);
}

std::string debugprint(const Variable& v) { return debugprint(std::vector<Variable>{v}); }

std::string debugprint(const Function& f, printing::Stage stage) {
  const compiler::Compiled& compiled = f.impl()->compiled;
  const compiler::Program& program = stage == printing::Stage::before ? f.impl()->original : compiled.optimized;
  std::vector<std::string> titles(program.num_user_outputs);
  for (const auto& target : program.update_targets) titles.push_back("update of '" + target->name + "':");
  std::string text = ir::debugprint(program.outputs, titles);
  if (stage != printing::Stage::before && compiled.schedule) text += compiler::lower::print_schedule(*compiled.schedule);
  return text;
}

}  // namespace graphjit

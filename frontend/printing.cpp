// debugprint: Theano's indented graph listing.
#include <graphjit/printing.hpp>

#include "compiler/ir/op_info.hpp"
#include "frontend/function_impl.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unordered_map>

namespace graphjit {

namespace {

// Ids like Theano's: A, B, ..., Z, BA, BB, ... in the order nodes are first printed.
std::string id_string(std::size_t n) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('A' + n % 26));
    n /= 26;
  } while (n > 0);
  return s;
}

class Printer {
 public:
  std::string out;

  void print(const ir::NodeRef& node, const std::string& prefix, const std::string& child_prefix) {
    auto [it, first] = ids_.try_emplace(node.get(), ids_.size());
    out += fmt::format("{}{} [id {}]", prefix, node->head(), id_string(it->second));
    if (!node->name.empty() && node->op != ir::OpCode::Input && node->op != ir::OpCode::Shared)
      out += fmt::format(" '{}'", node->name);
    out += fmt::format(" <{}>", node->type.str());
    // A subtree seen before is referred to by its id only.
    out += first || node->inputs.empty() ? "\n" : " (seen above)\n";
    if (!first) return;
    for (const ir::NodeRef& in : node->inputs) print(in, child_prefix + " |", child_prefix + " |");
  }

 private:
  std::unordered_map<const ir::Node*, std::size_t> ids_;
};

}  // namespace

std::string debugprint(const std::vector<Variable>& vs) {
  Printer p;
  for (const Variable& v : vs) p.print(v.node(), "", "");
  return p.out;
}

std::string debugprint(const Variable& v) { return debugprint(std::vector<Variable>{v}); }

std::string debugprint(const Function& f, printing::Stage stage) {
  const compiler::Program& program =
      stage == printing::Stage::before ? f.impl()->original : f.impl()->compiled.optimized;
  Printer p;
  for (std::size_t i = 0; i < program.outputs.size(); ++i) {
    if (i >= program.num_user_outputs)
      p.out += fmt::format("update of '{}':\n", program.update_targets[i - program.num_user_outputs]->name);
    p.print(program.outputs[i], "", "");
  }
  return p.out;
}

}  // namespace graphjit

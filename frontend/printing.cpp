// debugprint: Theano's indented graph listing.
#include <graphjit/printing.hpp>

#include "compiler/ir/op_info.hpp"
#include "frontend/function_impl.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>
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

// Lines are indented by " |" per level up to this depth; deeper lines say
// their depth instead, so a deep chain prints in linear, not quadratic, space.
constexpr std::size_t kMaxIndent = 40;

void append_indent(std::string& out, std::size_t depth) {
  static const std::string bars = [] {
    std::string s;
    for (std::size_t d = 0; d < kMaxIndent; ++d) s += " |";
    return s;
  }();
  out.append(bars, 0, 2 * std::min(depth, kMaxIndent));
  if (depth > kMaxIndent) fmt::format_to(std::back_inserter(out), " (depth {}) ", depth);
}

class Printer {
 public:
  std::string out;

  // Depth-first, inputs in order, with an explicit stack: graphs can be far
  // deeper than the call stack.
  void print(const ir::NodeRef& root) {
    std::vector<std::pair<const ir::Node*, std::size_t>> stack{{root.get(), 0}};
    while (!stack.empty()) {
      const auto [node, depth] = stack.back();
      stack.pop_back();
      auto [it, first] = ids_.try_emplace(node, ids_.size());
      append_indent(out, depth);
      fmt::format_to(std::back_inserter(out), "{} [id {}]", head(*node), id_string(it->second));
      if (!node->name.empty() && node->op != ir::OpCode::Input && node->op != ir::OpCode::Shared)
        fmt::format_to(std::back_inserter(out), " '{}'", node->name);
      fmt::format_to(std::back_inserter(out), " <{}>", node->type.str());
      // A subtree seen before is referred to by its id only.
      out += first || node->inputs.empty() ? "\n" : " (seen above)\n";
      if (!first) continue;
      for (auto in = node->inputs.rbegin(); in != node->inputs.rend(); ++in) stack.emplace_back(in->get(), depth + 1);
    }
  }

 private:
  static std::string head(const ir::Node& node) {
    switch (node.op) {
      case ir::OpCode::Input: return node.label();
      case ir::OpCode::Shared: return node.label().empty() ? "<shared>" : node.label();
      case ir::OpCode::Constant:
        return node.value.size() == 1 ? fmt::format("{{{}}}", node.value.get(std::vector<std::int64_t>(node.value.ndim(), 0)))
                                      : fmt::format("constant{}", shape_str(node.value.shape()));
      default: break;
    }
    std::string params;
    if (!node.attrs.axes.empty()) params += fmt::format("axis={}", fmt::join(node.attrs.axes, ","));
    if (node.op == ir::OpCode::DimShuffle) params += fmt::format("{}", fmt::join(node.attrs.ints, ","));
    if (node.op == ir::OpCode::Cast) params += dtype_name(node.attrs.dtype);
    return params.empty() ? ir::op_info(node.op).name : fmt::format("{}{{{}}}", ir::op_info(node.op).name, params);
  }

  std::unordered_map<const ir::Node*, std::size_t> ids_;
};

}  // namespace

std::string debugprint(const std::vector<Variable>& vs) {
  Printer p;
  for (const Variable& v : vs) p.print(v.node());
  return p.out;
}

std::string debugprint(const Variable& v) { return debugprint(std::vector<Variable>{v}); }

std::string debugprint(const Function& f) {
  const compiler::Program& program = f.impl()->compiled.optimized;
  Printer p;
  for (std::size_t i = 0; i < program.outputs.size(); ++i) {
    if (i >= program.num_user_outputs)
      p.out += fmt::format("update of '{}':\n", program.update_targets[i - program.num_user_outputs]->name);
    p.print(program.outputs[i]);
  }
  return p.out;
}

}  // namespace graphjit

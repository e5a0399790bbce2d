#include "compiler/ir/printer.hpp"

#include "compiler/ir/op_info.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace graphjit::ir {

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
  void print(const NodeRef& root) {
    std::vector<std::pair<const Node*, std::size_t>> stack{{root.get(), 0}};
    while (!stack.empty()) {
      const auto [node, depth] = stack.back();
      stack.pop_back();
      auto [it, first] = ids_.try_emplace(node, ids_.size());
      append_indent(out, depth);
      fmt::format_to(std::back_inserter(out), "{} [id {}]", node->head(), id_string(it->second));
      if (!node->name.empty() && node->op != OpCode::Input && node->op != OpCode::Shared)
        fmt::format_to(std::back_inserter(out), " '{}'", node->name);
      fmt::format_to(std::back_inserter(out), " <{}>", node->type.str());
      // A subtree seen before is referred to by its id only.
      out += first || node->inputs.empty() ? "\n" : " (seen above)\n";
      if (!first) continue;
      for (auto in = node->inputs.rbegin(); in != node->inputs.rend(); ++in) stack.emplace_back(in->get(), depth + 1);
    }
  }

 private:
  std::unordered_map<const Node*, std::size_t> ids_;
};

}  // namespace

std::string debugprint(const std::vector<NodeRef>& roots, const std::vector<std::string>& titles) {
  Printer p;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (i < titles.size() && !titles[i].empty()) p.out += titles[i] + "\n";
    p.print(roots[i]);
  }
  return p.out;
}

}  // namespace graphjit::ir

#include "compiler/ir/printer.hpp"

#include "compiler/ir/op_info.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
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

class Printer {
 public:
  std::string out;

  // Iterative, so that deep graphs do not exhaust the stack.
  void print(const NodeRef& root) {
    struct Item {
      const Node* node;
      std::string prefix;
    };
    std::vector<Item> stack{{root.get(), ""}};
    while (!stack.empty()) {
      Item item = std::move(stack.back());
      stack.pop_back();
      const Node& node = *item.node;
      auto [it, first] = ids_.try_emplace(&node, ids_.size());
      out += fmt::format("{}{} [id {}]", item.prefix, node.head(), id_string(it->second));
      if (!node.name.empty() && node.op != OpCode::Input && node.op != OpCode::Shared)
        out += fmt::format(" '{}'", node.name);
      out += fmt::format(" <{}>", node.type.str());
      // A subtree seen before is referred to by its id only.
      out += first || node.inputs.empty() ? "\n" : " (seen above)\n";
      if (!first) continue;
      for (auto in = node.inputs.rbegin(); in != node.inputs.rend(); ++in) stack.push_back({in->get(), item.prefix + " |"});
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

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
      out += fmt::format("{}{} [id {}]", item.prefix, op_head(node), id_string(it->second));
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

std::string op_head(const Node& node) {
  switch (node.op) {
    case OpCode::Input: return node.label();
    case OpCode::Shared: return node.label().empty() ? "<shared>" : node.label();
    case OpCode::Constant:
      return node.value.size() == 1 ? fmt::format("{{{}}}", node.value.get(std::vector<std::int64_t>(node.value.ndim(), 0)))
                                    : fmt::format("constant{}", shape_str(node.value.shape()));
    default: break;
  }
  std::vector<std::string> params;
  if (!node.attrs.axes.empty()) params.push_back(fmt::format("axis={}", fmt::join(node.attrs.axes, ",")));
  if (node.op == OpCode::DimShuffle) params.push_back(fmt::format("{}", fmt::join(node.attrs.ints, ",")));
  if (node.op == OpCode::Cast) params.push_back(dtype_name(node.attrs.dtype));
  if (node.op == OpCode::Gemm) {
    if (node.attrs.trans_a) params.emplace_back("trans_a");
    if (node.attrs.trans_b) params.emplace_back("trans_b");
    params.push_back(fmt::format("alpha={}", node.attrs.alpha));
    params.push_back(fmt::format("beta={}", node.attrs.beta));
  }
  const char* name = op_info(node.op).name;
  return params.empty() ? name : fmt::format("{}{{{}}}", name, fmt::join(params, ", "));
}

std::string debugprint(const std::vector<NodeRef>& roots, const std::vector<std::string>& titles) {
  Printer p;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (i < titles.size() && !titles[i].empty()) p.out += titles[i] + "\n";
    p.print(roots[i]);
  }
  return p.out;
}

}  // namespace graphjit::ir

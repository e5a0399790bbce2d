#include "compiler/lower/expand.hpp"

#include <graphjit/tensor.hpp>

#include "compiler/ir/op_info.hpp"

namespace graphjit::compiler::lower {

namespace {

namespace T = graphjit::tensor;
using ir::NodeRef;
using ir::OpCode;

Variable arg(const NodeRef& n, std::size_t i) { return Variable(n->inputs[i]); }
constexpr int kLastAxis = -1;

NodeRef expand_softmax(const NodeRef& n) {
  if (n->op != OpCode::Softmax) return nullptr;
  Variable x = arg(n, 0);
  Variable e = T::exp(x - T::max(x, std::vector<int>{kLastAxis}, true));
  return (e / T::sum(e, std::vector<int>{kLastAxis}, true)).node();
}

NodeRef expand_log_softmax(const NodeRef& n) {
  if (n->op != OpCode::LogSoftmax) return nullptr;
  Variable x = arg(n, 0);
  Variable d = x - T::max(x, std::vector<int>{kLastAxis}, true);
  return (d - T::log(T::sum(T::exp(d), std::vector<int>{kLastAxis}, true))).node();
}

NodeRef expand_softmax_grad(const NodeRef& n) {
  if (n->op != OpCode::SoftmaxGrad) return nullptr;
  Variable g = arg(n, 0), y = arg(n, 1);
  return ((g - T::sum(g * y, std::vector<int>{kLastAxis}, true)) * y).node();
}

constexpr passes::Rule kRules[] = {
    {"expand_softmax", expand_softmax},
    {"expand_log_softmax", expand_log_softmax},
    {"expand_softmax_grad", expand_softmax_grad},
};

}  // namespace

passes::Graph expand_for_fusion(const passes::Graph& roots) { return passes::apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::lower

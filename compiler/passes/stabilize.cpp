// Stabilize: expressions that overflow, underflow or lose digits in floating
// point become equivalent ones that do not. The results are at least as
// accurate as the originals, so they may differ from them in the last digits
// (or where the original over/underflowed: that is the point).
#include "compiler/passes/passes.hpp"

#include "compiler/passes/pattern.hpp"

namespace graphjit::compiler::passes {

namespace {

using ir::NodeRef;
using ir::OpCode;

// The input of unary `n`, converted to n's dtype: what the replacements compute on.
NodeRef float_input(const NodeRef& n) { return as_dtype(n->inputs[0], n->type.dtype, *n); }

// log(softmax(x)) -> log_softmax(x): softmax underflows to 0 where x is far
// below the row's maximum, and log(0) is -inf.
NodeRef log_softmax(const NodeRef& n) {
  if (!is(n, OpCode::Log) || !is(n->inputs[0], OpCode::Softmax)) return nullptr;
  return conform(make_like(*n, OpCode::LogSoftmax, {n->inputs[0]->inputs[0]}), *n);
}

// log(1 + x), log(x + 1) -> log1p(x): 1 + x rounds away x's digits when |x| is small.
NodeRef log1p(const NodeRef& n) {
  if (!is(n, OpCode::Log) || !is(n->inputs[0], OpCode::Add)) return nullptr;
  const NodeRef& sum = n->inputs[0];
  for (int i = 0; i < 2; ++i) {
    const NodeRef& x = sum->inputs[static_cast<std::size_t>(1 - i)];
    if (is_scalar_constant(sum->inputs[static_cast<std::size_t>(i)], 1) &&
        x->type.broadcastable == n->type.broadcastable)
      return make_like(*n, OpCode::Log1p, {as_dtype(x, sum->type.dtype, *n)});
  }
  return nullptr;
}

// log(sigmoid(x)) -> -softplus(-x): sigmoid underflows to 0 for x below about -745.
NodeRef log_sigmoid(const NodeRef& n) {
  if (!is(n, OpCode::Log) || !is(n->inputs[0], OpCode::Sigmoid)) return nullptr;
  const NodeRef x = float_input(n->inputs[0]);
  const NodeRef softplus = make_like(*n, OpCode::Softplus, {make_like(*n, OpCode::Neg, {x})});
  return conform(make_like(*n, OpCode::Neg, {softplus}), *n);
}

// log(1 - sigmoid(x)) -> -softplus(x): 1 - sigmoid(x) cancels to 0 for x above about 37.
NodeRef log_one_minus_sigmoid(const NodeRef& n) {
  if (!is(n, OpCode::Log) || !is(n->inputs[0], OpCode::Sub)) return nullptr;
  const NodeRef& difference = n->inputs[0];
  const NodeRef& s = difference->inputs[1];
  if (!is_scalar_constant(difference->inputs[0], 1) || !is(s, OpCode::Sigmoid) ||
      s->type.broadcastable != n->type.broadcastable)
    return nullptr;
  const NodeRef softplus = make_like(*n, OpCode::Softplus, {float_input(s)});
  return conform(make_like(*n, OpCode::Neg, {softplus}), *n);
}

// log(exp(x)) -> x: exp overflows for x above about 709.
NodeRef log_of_exp(const NodeRef& n) {
  if (!is(n, OpCode::Log) || !is(n->inputs[0], OpCode::Exp)) return nullptr;
  return conform(n->inputs[0]->inputs[0], *n);
}

// exp(log(x)) -> x. Only equal for x >= 0: for x < 0 log gives nan and the
// rewrite returns x instead. Theano makes the same trade, for graphs where
// x is a probability or a scale; excluded_passes = {"stabilize"} turns it off.
NodeRef exp_of_log(const NodeRef& n) {
  if (!is(n, OpCode::Exp) || !is(n->inputs[0], OpCode::Log)) return nullptr;
  return conform(n->inputs[0]->inputs[0], *n);
}

// categorical_crossentropy(softmax(x), y) -> the crossentropy of
// log_softmax(x), read as log-probabilities: -log of a softmax probability
// that underflowed is inf; log_softmax keeps the logits' digits. (The one-hot
// form, -sum(t * log(softmax(x))), is already covered by the log_softmax
// rule.) The op still checks every target, -1 included, in every mode.
NodeRef crossentropy_of_softmax(const NodeRef& n) {
  if (!is(n, OpCode::CrossentropyCategorical) || !is(n->inputs[0], OpCode::Softmax) || !n->attrs.ints.empty())
    return nullptr;
  const NodeRef& logits = n->inputs[0]->inputs[0];
  ir::Attrs of_log_probs;
  of_log_probs.ints = {1};
  const NodeRef log_probs = make_like(*n, OpCode::LogSoftmax, {logits});
  return conform(make_like(*n, OpCode::CrossentropyCategorical, {log_probs, n->inputs[1]}, of_log_probs), *n);
}

// gy * y, for the output gradient gy of softmax output y, when it can be
// written without dividing by y: gy = a / y (log's gradient), or a switch
// between such terms and 0 (categorical_crossentropy's gradient).
NodeRef times_softmax(const NodeRef& gy, const NodeRef& y, const ir::Node& old) {
  if (is(gy, OpCode::TrueDiv) && gy->inputs[1] == y) return gy->inputs[0];
  if (is_scalar_constant(gy, 0)) return gy;
  if (is(gy, OpCode::Switch)) {
    const NodeRef then = times_softmax(gy->inputs[1], y, old), otherwise = times_softmax(gy->inputs[2], y, old);
    if (then && otherwise) return make_like(old, OpCode::Switch, {gy->inputs[0], then, otherwise});
  }
  return nullptr;
}

// softmax_grad(gy, y) = (gy - sum(gy * y)) * y = u - sum(u) * y with u = gy * y.
// When u needs no division by y (crossentropy and log-likelihood gradients:
// u = -g * onehot), this form stays finite where y underflowed to 0 and
// gy = a / y did not. Rounding differs from the original (reassociated).
NodeRef softmax_grad_without_division(const NodeRef& n) {
  if (!is(n, OpCode::SoftmaxGrad)) return nullptr;
  const NodeRef& y = n->inputs[1];
  const NodeRef u = times_softmax(n->inputs[0], y, *n);
  if (!u || u->type.ndim() != y->type.ndim()) return nullptr;
  ir::Attrs row_sum;
  row_sum.keepdims = true;
  if (y->type.ndim() > 1) row_sum.axes = {y->type.ndim() - 1};  // empty: all axes (of a vector)
  const NodeRef total = make_like(*n, OpCode::Sum, {u}, row_sum);
  return conform(make_like(*n, OpCode::Sub, {u, make_like(*n, OpCode::Mul, {total, y})}), *n);
}

constexpr Rule kRules[] = {
    {"log_softmax", log_softmax},
    {"log1p", log1p},
    {"log_sigmoid", log_sigmoid},
    {"log_one_minus_sigmoid", log_one_minus_sigmoid},
    {"log_of_exp", log_of_exp},
    {"exp_of_log", exp_of_log},
    {"crossentropy_of_softmax", crossentropy_of_softmax},
    {"softmax_grad_without_division", softmax_grad_without_division},
};

}  // namespace

Graph stabilize(const Graph& roots) { return apply_rules(roots, kRules); }

}  // namespace graphjit::compiler::passes

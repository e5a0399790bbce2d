// Stabilize: expressions that overflow, underflow or lose digits in floating
// point become equivalent ones that do not. The results are at least as
// accurate as the originals, so they may differ from them in the last digits
// (or where the original over/underflowed: that is the point).
//
// Theano's catalogue, one rule each (rules see their inputs already rewritten,
// so they compose: log(1 - 1/(1 + exp(-z))) becomes -softplus(z)):
//   1/(1+exp(-x)), exp(x)/(1+exp(x)) -> sigmoid(x)   sigmoid_from_exp
//   log(sigmoid(x))      -> -softplus(-x)              log_sigmoid
//   log(1 - sigmoid(x))  -> -softplus(x)               log_one_minus_sigmoid
//   1 - sigmoid(x)       -> sigmoid(-x)                one_minus_sigmoid
//   log(1 + exp(x))      -> softplus(x)                softplus_from_log_exp
//   exp(x) - 1           -> expm1(x)                   expm1
//   log(sum(exp(x)))     -> max-shifted logsumexp      logsumexp
//   binary_crossentropy(sigmoid(z), t) is -(t log(sigmoid(z)) + (1-t) log(1 - sigmoid(z)))
//   (nnet.cpp), so log_sigmoid and log_one_minus_sigmoid make it
//   t softplus(-z) + (1-t) softplus(z).
// T::grad differentiates the cost after these rules (stabilize_before_grad,
// frontend/grad.cpp), so the gradients of these forms are the stable ones too: d/dz log(1 - sigmoid(z))
// is -sigmoid(z), -1 at z = 40, where the chain rule through 1 - sigmoid(z)
// gives -1/0 * 0.
#include "compiler/passes/passes.hpp"

#include "compiler/passes/pattern.hpp"

#include <algorithm>
#include <limits>

namespace graphjit::compiler::passes {

namespace {

using ir::NodeRef;
using ir::OpCode;

// The input of unary `n`, converted to n's dtype: what the replacements compute on.
NodeRef float_input(const NodeRef& n) { return as_dtype(n->inputs[0], n->type.dtype, *n); }

// -x, or y when x is -y.
NodeRef negated(const NodeRef& x, const ir::Node& old) {
  return is(x, OpCode::Neg) ? x->inputs[0] : make_like(old, OpCode::Neg, {x});
}

// The operand of 1 + y or y + 1 other than the constant 1, if it is an `op` node.
NodeRef one_plus(const NodeRef& sum, OpCode op) {
  if (!is(sum, OpCode::Add)) return nullptr;
  for (std::size_t i = 0; i < 2; ++i)
    if (is_scalar_constant(sum->inputs[i], 1) && is(sum->inputs[1 - i], op)) return sum->inputs[1 - i];
  return nullptr;
}

// 1 / (1 + exp(y)) -> sigmoid(-y), and exp(x) / (1 + exp(x)) -> sigmoid(x)
// (also with exp(.) + 1): exp overflows to inf for y above about 709, and
// the division by inf leaves gradients of inf / inf.
NodeRef sigmoid_from_exp(const NodeRef& n) {
  if (!is(n, OpCode::TrueDiv)) return nullptr;
  const NodeRef e = one_plus(n->inputs[1], OpCode::Exp);
  if (!e) return nullptr;
  const NodeRef y = as_dtype(e->inputs[0], e->type.dtype, *n);
  if (is_scalar_constant(n->inputs[0], 1)) return conform(make_like(*n, OpCode::Sigmoid, {negated(y, *n)}), *n);
  // The same exp above and below (one node once merge has run).
  const NodeRef& top = n->inputs[0];
  if (top == e || (is(top, OpCode::Exp) && top->inputs[0] == e->inputs[0]))
    return conform(make_like(*n, OpCode::Sigmoid, {y}), *n);
  return nullptr;
}

// 1 - sigmoid(x) -> sigmoid(-x): the difference cancels to 0 for x above
// about 37 (float64), where sigmoid(-x) still has all its digits.
NodeRef one_minus_sigmoid(const NodeRef& n) {
  if (!is(n, OpCode::Sub) || !is_scalar_constant(n->inputs[0], 1) || !is(n->inputs[1], OpCode::Sigmoid)) return nullptr;
  const NodeRef& s = n->inputs[1];
  return conform(make_like(*n, OpCode::Sigmoid, {negated(float_input(s), *n)}), *n);
}

// log(1 + exp(x)), log1p(exp(x)) -> softplus(x): exp overflows for x above
// about 709, where softplus(x) is x.
NodeRef softplus_from_log_exp(const NodeRef& n) {
  NodeRef e;
  if (is(n, OpCode::Log)) e = one_plus(n->inputs[0], OpCode::Exp);
  else if (is(n, OpCode::Log1p) && is(n->inputs[0], OpCode::Exp)) e = n->inputs[0];
  if (!e) return nullptr;
  return conform(make_like(*n, OpCode::Softplus, {float_input(e)}), *n);
}

// exp(x) - 1 -> expm1(x): the subtraction cancels x's digits for small |x|
// (exp(1e-20) - 1 is 0).
NodeRef expm1(const NodeRef& n) {
  if (!is(n, OpCode::Sub) || !is(n->inputs[0], OpCode::Exp) || !is_scalar_constant(n->inputs[1], 1)) return nullptr;
  return conform(make_like(*n, OpCode::Expm1, {float_input(n->inputs[0])}), *n);
}

// log(sum(exp(x), axes)) -> m + log(sum(exp(x - m), axes)), m = max(x, axes):
// exp(x) overflows for x above about 709 and the sum underflows to 0 (log
// -inf) when every x is below about -745; shifted, the largest term is 1.
// A max that is infinite (a row of -inf, or one holding +inf) is replaced by
// 0, so x - m is not inf - inf: the result is then what the original gives.
// Whether exp's argument is already x - shift(max(x)), the form logsumexp
// builds (which would otherwise match again, forever).
bool shifted_by_own_max(const NodeRef& argument) {
  if (!is(argument, OpCode::Sub) || !is(argument->inputs[1], OpCode::Switch)) return false;
  const NodeRef& max = argument->inputs[1]->inputs[2];
  return is(max, OpCode::Max) && max->inputs[0] == argument->inputs[0];
}

NodeRef logsumexp(const NodeRef& n) {
  if (!is(n, OpCode::Log) || !is(n->inputs[0], OpCode::Sum) || !is(n->inputs[0]->inputs[0], OpCode::Exp)) return nullptr;
  const NodeRef& total = n->inputs[0];
  const NodeRef& e = total->inputs[0];
  if (shifted_by_own_max(e->inputs[0])) return nullptr;
  const NodeRef x = float_input(e);
  const int ndim = x->type.ndim();
  std::vector<int> axes = total->attrs.axes;  // empty: all
  if (axes.empty())
    for (int d = 0; d < ndim; ++d) axes.push_back(d);
  ir::Attrs kept_max;
  kept_max.axes = total->attrs.axes;
  kept_max.keepdims = true;
  const NodeRef max_kept = make_like(*n, OpCode::Max, {x}, kept_max);
  auto filled = [&](double value) {  // broadcastable in every dim, like max_kept's reduced ones
    return ir::make_constant(Tensor::full(Shape(static_cast<std::size_t>(ndim), 1), value, x->type.dtype), n->where);
  };
  const NodeRef infinite = make_like(
      *n, OpCode::Eq, {make_like(*n, OpCode::Abs, {max_kept}), filled(std::numeric_limits<double>::infinity())});
  const NodeRef shift = make_like(*n, OpCode::Switch, {infinite, filled(0), max_kept});
  ir::Attrs sum_attrs;
  sum_attrs.axes = total->attrs.axes;
  sum_attrs.keepdims = total->attrs.keepdims;
  const NodeRef shifted_sum =
      make_like(*n, OpCode::Sum, {make_like(*n, OpCode::Exp, {make_like(*n, OpCode::Sub, {x, shift})})}, sum_attrs);
  std::vector<std::int64_t> kept;  // the dims the sum keeps, for the shift to match it
  for (int d = 0; d < ndim; ++d)
    if (total->attrs.keepdims || std::find(axes.begin(), axes.end(), d) == axes.end()) kept.push_back(d);
  const NodeRef shift_out = dimshuffle(shift, kept, *n);
  return conform(make_like(*n, OpCode::Add, {make_like(*n, OpCode::Log, {shifted_sum}), shift_out}), *n);
}

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
  const NodeRef softplus = make_like(*n, OpCode::Softplus, {negated(float_input(n->inputs[0]), *n)});
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
    {"sigmoid_from_exp", sigmoid_from_exp},
    {"one_minus_sigmoid", one_minus_sigmoid},
    {"softplus_from_log_exp", softplus_from_log_exp},
    {"expm1", expm1},
    {"logsumexp", logsumexp},
    {"log_softmax", log_softmax},
    {"log1p", log1p},
    {"log_sigmoid", log_sigmoid},
    {"log_one_minus_sigmoid", log_one_minus_sigmoid},
    {"log_of_exp", log_of_exp},
    {"exp_of_log", exp_of_log},
    {"crossentropy_of_softmax", crossentropy_of_softmax},
    {"softmax_grad_without_division", softmax_grad_without_division},
};

// What T::grad applies to a cost before differentiating it: the rules whose
// original form has a gradient no later rewrite can repair (the chain rule
// through 1 - sigmoid(z) has already divided by 0). The softmax rules are
// not here: their gradients are repaired in the gradient graph
// (softmax_grad_without_division), and the forms users differentiate stay as written.
constexpr Rule kRulesBeforeGrad[] = {
    {"sigmoid_from_exp", sigmoid_from_exp},
    {"one_minus_sigmoid", one_minus_sigmoid},
    {"softplus_from_log_exp", softplus_from_log_exp},
    {"expm1", expm1},
    {"logsumexp", logsumexp},
    {"log1p", log1p},
    {"log_sigmoid", log_sigmoid},
    {"log_one_minus_sigmoid", log_one_minus_sigmoid},
    {"log_of_exp", log_of_exp},
};

}  // namespace

Graph stabilize(const Graph& roots) { return apply_rules(roots, kRules); }

Graph stabilize_before_grad(const Graph& roots) { return apply_rules(roots, kRulesBeforeGrad); }

}  // namespace graphjit::compiler::passes

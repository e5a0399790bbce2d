// Elementwise ops: one scalar function applied with broadcasting. Their
// definitions here (type rule, scalar function, gradient) are read by the
// reference evaluator, the fusion pass and the code generator.
#include "frontend/ops/op_support.hpp"

#include <graphjit/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <type_traits>

namespace graphjit::ops {

using ir::OpCode;

namespace {

template <class P> using scalar_t = std::remove_cvref_t<decltype(std::declval<P>()[0])>;

ir::Type infer_elemwise_type(const ir::Node& node) {
  const ir::OpInfo& info = ir::op_info(node.op);
  const int ndim = node.inputs[0]->type.ndim();
  std::vector<bool> bcast(static_cast<std::size_t>(ndim), true);
  for (const auto& in : node.inputs) {
    if (in->type.ndim() != ndim)
      type_error(node, "elementwise inputs must have the same number of dimensions (the builders insert dimshuffles)");
    for (int d = 0; d < ndim; ++d) bcast[d] = bcast[d] && in->type.broadcastable[d];
  }
  auto promoted = [&](std::size_t first) {
    DType t = node.inputs[first]->type.dtype;
    for (std::size_t i = first + 1; i < node.inputs.size(); ++i) t = promote(t, node.inputs[i]->type.dtype);
    return t;
  };
  DType dtype = float64;
  switch (info.elem_dtype) {
    case ir::ElemDType::Promote: dtype = promoted(0); break;
    case ir::ElemDType::PromoteFloat: dtype = promoted(0); if (!is_float(dtype)) dtype = float64; break;
    case ir::ElemDType::Bool: dtype = bool_; break;
    case ir::ElemDType::FromAttrs: dtype = node.attrs.dtype; break;
    case ir::ElemDType::SwitchArms: dtype = promoted(1); break;
  }
  return ir::Type{dtype, bcast};
}

Shape infer_elemwise_shape(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const int ndim = node.type.ndim();
  Shape out(static_cast<std::size_t>(ndim), 1);
  for (int d = 0; d < ndim; ++d) {
    bool seen = false;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::int64_t n = inputs[i].shape(d);
      if (node.inputs[i]->type.broadcastable[d]) {
        if (n != 1)
          shape_error(node, inputs,
                      fmt::format("input {} is declared broadcastable in dim {} but has length {}", i, d, n));
        continue;
      }
      if (seen && n != out[d])
        shape_error(node, inputs,
                    fmt::format("the inputs do not match in dim {}: {} vs {} (only dims declared broadcastable "
                                "broadcast; use dimshuffle or a broadcastable type)", d, out[d], n));
      out[d] = n;
      seen = true;
    }
  }
  return out;
}

// The type the scalar function computes in: floats in their own precision,
// everything else in int64.
DType compute_dtype(const ir::Node& node) {
  const ir::OpInfo& info = ir::op_info(node.op);
  DType t = node.type.dtype;
  // Comparisons, casts and switch compute in their inputs' common type, so that
  // a fractional float condition or operand is not truncated to an integer first.
  if (info.elem_dtype == ir::ElemDType::Bool || info.elem_dtype == ir::ElemDType::FromAttrs ||
      info.elem_dtype == ir::ElemDType::SwitchArms) {
    t = node.inputs[0]->type.dtype;
    for (const auto& in : node.inputs) t = promote(t, in->type.dtype);
    if (node.op == OpCode::Cast) t = is_float(t) ? float64 : int64;
  }
  return is_float(t) ? t : int64;
}

// Integer kernels read and write elements in their own types: a trip through
// double would round int64 values beyond 2^53, and storing saturates where
// numpy's fixed-width integers wrap around.
std::int64_t element_offset(const Tensor& t, const std::vector<std::int64_t>& idx) {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < idx.size(); ++d) offset += idx[d] * t.strides()[d];
  return offset;
}

std::int64_t get_int(const Tensor& t, const std::vector<std::int64_t>& idx) {
  return visit_dtype(t.dtype(), [&](auto tag) -> std::int64_t {
    using S = decltype(tag);
    return value_cast<std::int64_t>(static_cast<const S*>(t.raw_data())[element_offset(t, idx)]);
  });
}

void set_int(Tensor& t, const std::vector<std::int64_t>& idx, std::int64_t value) {
  visit_dtype(t.dtype(), [&](auto tag) {
    using S = decltype(tag);
    static_cast<S*>(t.raw_data())[element_offset(t, idx)] = static_cast<S>(value);
  });
}

Tensor elemwise_reference(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = infer_elemwise_shape(node, inputs);
  const ir::OpInfo& info = ir::op_info(node.op);
  std::vector<Tensor> in;
  for (const Tensor& t : inputs) in.push_back(t.broadcast_to(shape));
  Tensor out = Tensor::empty(shape, node.type.dtype);
  const DType compute = compute_dtype(node);
  for_each_index(shape, [&](const std::vector<std::int64_t>& idx) {
    if (compute == float64) {
      double args[3];
      for (std::size_t k = 0; k < in.size(); ++k) args[k] = in[k].get(idx);
      out.set(idx, info.scalar_f64(args));
    } else if (compute == float32) {
      float args[3];
      for (std::size_t k = 0; k < in.size(); ++k) args[k] = static_cast<float>(in[k].get(idx));
      out.set(idx, info.scalar_f32(args));
    } else {
      std::int64_t args[3];
      for (std::size_t k = 0; k < in.size(); ++k) args[k] = get_int(in[k], idx);
      set_int(out, idx, info.scalar_i64(args));
    }
  });
  return out;
}

// Integer arithmetic wraps modulo 2^64 like numpy's fixed-width integers and
// the JIT's LLVM code; signed overflow in C++ would be undefined behaviour.
template <class T> T wrapping_add(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a + b;
  else return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) + static_cast<std::make_unsigned_t<T>>(b));
}
template <class T> T wrapping_sub(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a - b;
  else return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) - static_cast<std::make_unsigned_t<T>>(b));
}
template <class T> T wrapping_mul(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a * b;
  else return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) * static_cast<std::make_unsigned_t<T>>(b));
}
template <class T> T wrapping_neg(T a) {
  if constexpr (std::is_floating_point_v<T>) return -a;  // -0.0 for 0.0, which 0 - a would not give
  else return wrapping_sub<T>(T(0), a);
}

// Python's floor division. For integers, numpy's edge cases: x // 0 is 0, and
// INT64_MIN // -1 wraps to INT64_MIN (the hardware division would trap).
template <class T> T floor_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return std::floor(a / b);
  else {
    if (b == 0) return 0;  // numpy returns 0 (with a warning) for integer division by zero
    if (b == -1) return wrapping_neg<T>(a);
    T q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
}

template <class T> T py_mod(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  } else {
    if (b == 0 || b == -1) return 0;  // x % -1 is 0 for every x; INT64_MIN % -1 would trap
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}

template <class T> T int_pow(T base, T exp) {
  if constexpr (std::is_floating_point_v<T>) return std::pow(base, exp);
  else {
    if (exp < 0) return base == 1 ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
    // Unsigned arithmetic wraps like numpy where signed overflow would be undefined.
    using U = std::make_unsigned_t<T>;
    U result = 1, square = static_cast<U>(base);
    for (; exp > 0; exp >>= 1, square *= square)
      if (exp & 1) result *= square;
    return static_cast<T>(result);
  }
}

// nan-propagating max/min, like numpy.maximum.
template <class T> T nan_max(T a, T b) { return a != a ? a : (b != b ? b : std::max(a, b)); }
template <class T> T nan_min(T a, T b) { return a != a ? a : (b != b ? b : std::min(a, b)); }

template <class T> T stable_softplus(T x) {
  if constexpr (std::is_floating_point_v<T>) return x > T(30) ? x : std::log1p(std::exp(x));
  else return x;
}

template <class T> T sigmoid_of(T x) {
  if constexpr (std::is_floating_point_v<T>) return T(1) / (T(1) + std::exp(-x));
  else return x;
}

void define(OpCode op, ir::ElemDType rule) {
  ir::OpInfo& info = ir::define_op(op);
  info.elem_dtype = rule;
  info.infer_type = infer_elemwise_type;
  info.infer_shape = infer_elemwise_shape;
  info.reference = elemwise_reference;
}

#define GRAD(op) ir::define_op(OpCode::op).grad = [](const ir::Node& node, const Variable& out, const Variable& g) -> std::vector<Variable>
#define SCALAR(op, rule, body)                         \
  define(OpCode::op, ir::ElemDType::rule);             \
  ir::define_scalar(OpCode::op, [](auto a) {           \
    using T = scalar_t<decltype(a)>;                   \
    (void)sizeof(T);                                   \
    body                                               \
  })

Variable x0(const ir::Node& n) { return input(n, 0); }
Variable x1(const ir::Node& n) { return input(n, 1); }

}  // namespace

// The gradient of an elementwise op w.r.t. each input, reduced to that input's shape.
static std::vector<Variable> to_inputs(const ir::Node& node, std::vector<Variable> grads) {
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (grads[i].defined()) {
      if (!is_float(node.inputs[i]->type.dtype)) grads[i] = Variable();
      else grads[i] = sum_to_input(grads[i], *node.inputs[i]);
    }
  return grads;
}

}  // namespace graphjit::ops

namespace graphjit::ir {

void register_elemwise_ops() {
  using namespace graphjit::ops;
  using graphjit::tensor::cast;
  namespace T_ = graphjit::tensor;

  SCALAR(Add, Promote, return wrapping_add<T>(a[0], a[1]););
  SCALAR(Sub, Promote, return wrapping_sub<T>(a[0], a[1]););
  SCALAR(Mul, Promote, return wrapping_mul<T>(a[0], a[1]););
  SCALAR(TrueDiv, PromoteFloat, return a[0] / a[1];);
  SCALAR(IntDiv, Promote, return floor_div<T>(a[0], a[1]););
  SCALAR(Mod, Promote, return py_mod<T>(a[0], a[1]););
  SCALAR(Pow, Promote, return int_pow<T>(a[0], a[1]););
  SCALAR(Maximum, Promote, return nan_max<T>(a[0], a[1]););
  SCALAR(Minimum, Promote, return nan_min<T>(a[0], a[1]););
  SCALAR(Neg, Promote, return wrapping_neg<T>(a[0]););
  SCALAR(Abs, Promote, if constexpr (std::is_floating_point_v<T>) return std::abs(a[0]); else return a[0] < 0 ? wrapping_neg<T>(a[0]) : a[0];);
  SCALAR(Sgn, Promote, return a[0] != a[0] ? a[0] : static_cast<T>((a[0] > 0) - (a[0] < 0)););
  SCALAR(Sqr, Promote, return wrapping_mul<T>(a[0], a[0]););
  SCALAR(Sqrt, PromoteFloat, return static_cast<T>(std::sqrt(a[0])););
  SCALAR(Exp, PromoteFloat, return static_cast<T>(std::exp(a[0])););
  SCALAR(Log, PromoteFloat, return static_cast<T>(std::log(a[0])););
  SCALAR(Log1p, PromoteFloat, return static_cast<T>(std::log1p(a[0])););
  SCALAR(Sin, PromoteFloat, return static_cast<T>(std::sin(a[0])););
  SCALAR(Cos, PromoteFloat, return static_cast<T>(std::cos(a[0])););
  SCALAR(Expm1, PromoteFloat, return static_cast<T>(std::expm1(a[0])););
  SCALAR(Tanh, PromoteFloat, return static_cast<T>(std::tanh(a[0])););
  SCALAR(Sigmoid, PromoteFloat, return sigmoid_of<T>(a[0]););
  SCALAR(Softplus, PromoteFloat, return stable_softplus<T>(a[0]););
  SCALAR(Relu, Promote, return a[0] > 0 ? a[0] : T(0););
  SCALAR(Clip, Promote, return nan_min<T>(nan_max<T>(a[0], a[1]), a[2]););
  SCALAR(Cast, FromAttrs, return a[0];);
  SCALAR(Eq, Bool, return a[0] == a[1];);
  SCALAR(Neq, Bool, return a[0] != a[1];);
  SCALAR(Lt, Bool, return a[0] < a[1];);
  SCALAR(Le, Bool, return a[0] <= a[1];);
  SCALAR(Gt, Bool, return a[0] > a[1];);
  SCALAR(Ge, Bool, return a[0] >= a[1];);
  SCALAR(And, Bool, return (a[0] != 0) && (a[1] != 0););
  SCALAR(Or, Bool, return (a[0] != 0) || (a[1] != 0););
  SCALAR(Xor, Bool, return (a[0] != 0) != (a[1] != 0););
  SCALAR(Not, Bool, return a[0] == 0;);
  SCALAR(Switch, SwitchArms, return a[0] != 0 ? a[1] : a[2];);

  GRAD(Add) { return to_inputs(node, {g, g}); };
  GRAD(Sub) { return to_inputs(node, {g, -g}); };
  GRAD(Mul) { return to_inputs(node, {g * x1(node), g * x0(node)}); };
  GRAD(TrueDiv) {
    Variable a = x0(node), b = x1(node);
    return to_inputs(node, {g / b, -g * a / T_::sqr(b)});
  };
  GRAD(Pow) {
    Variable a = x0(node), b = x1(node);
    return to_inputs(node, {g * b * T_::pow(a, b - 1), g * T_::log(a) * out});
  };
  GRAD(Maximum) {
    Variable a = x0(node), b = x1(node);
    return to_inputs(node, {g * (a >= b), g * (a < b)});
  };
  GRAD(Minimum) {
    Variable a = x0(node), b = x1(node);
    return to_inputs(node, {g * (a <= b), g * (a > b)});
  };
  // Piecewise constant: zero wherever it is differentiable, as in Theano.
  GRAD(IntDiv) { return to_inputs(node, {g * 0, g * 0}); };
  // a mod b = a - b * floor(a / b).
  GRAD(Mod) { return to_inputs(node, {g, -g * T_::int_div(x0(node), x1(node))}); };
  GRAD(Neg) { return to_inputs(node, {-g}); };
  GRAD(Abs) { return to_inputs(node, {g * T_::sgn(x0(node))}); };
  GRAD(Sgn) { return to_inputs(node, {g * 0}); };
  GRAD(Sqr) { return to_inputs(node, {g * 2 * x0(node)}); };
  GRAD(Sqrt) { return to_inputs(node, {g * 0.5 / out}); };
  GRAD(Exp) { return to_inputs(node, {g * out}); };
  GRAD(Log) { return to_inputs(node, {g / x0(node)}); };
  GRAD(Log1p) { return to_inputs(node, {g / (1 + x0(node))}); };
  GRAD(Sin) { return to_inputs(node, {g * T_::cos(x0(node))}); };
  GRAD(Cos) { return to_inputs(node, {-g * T_::sin(x0(node))}); };
  GRAD(Expm1) { return to_inputs(node, {g * T_::exp(x0(node))}); };
  GRAD(Tanh) { return to_inputs(node, {g * (1 - T_::sqr(out))}); };
  GRAD(Sigmoid) { return to_inputs(node, {g * out * (1 - out)}); };
  GRAD(Softplus) { return to_inputs(node, {g * T_::sigmoid(x0(node))}); };
  GRAD(Relu) { return to_inputs(node, {g * (x0(node) > 0)}); };
  GRAD(Clip) {
    Variable x = x0(node), lo = input(node, 1), hi = input(node, 2);
    return to_inputs(node, {g * ((x >= lo) & (x <= hi)), g * (x < lo), g * (x > hi)});
  };
  GRAD(Cast) { return to_inputs(node, {g}); };
  GRAD(Switch) {
    Variable c = x0(node);
    return to_inputs(node, {Variable(), T_::switch_(c, g, 0), T_::switch_(c, 0, g)});
  };
}

}  // namespace graphjit::ir

namespace graphjit::tensor {

using ir::OpCode;

namespace {
// Theano's Elemwise: inputs of lower rank get broadcast dims ('x') on the left.
Variable elemwise(OpCode op, std::vector<Variable> inputs, SL where, ir::Attrs attrs = {}) {
  int ndim = 0;
  for (const Variable& v : inputs) {
    if (!v.defined())
      throw TypeError(fmt::format("{} at {}: an input is an undefined Variable", ir::op_info(op).name,
                                  ops::where_str(where)));
    ndim = std::max(ndim, v.ndim());
  }
  for (Variable& v : inputs) {
    if (v.ndim() == ndim) continue;
    std::vector<std::int64_t> pattern(static_cast<std::size_t>(ndim - v.ndim()), -1);
    for (int d = 0; d < v.ndim(); ++d) pattern.push_back(d);
    v = dimshuffle(v, pattern, where);
  }
  return ops::apply(op, inputs, std::move(attrs), where);
}
}  // namespace

#define BINARY(fn, Op) \
  Variable fn(const Variable& a, const Variable& b, SL where) { return elemwise(OpCode::Op, {a, b}, where); }
#define UNARY(fn, Op) \
  Variable fn(const Variable& x, SL where) { return elemwise(OpCode::Op, {x}, where); }
BINARY(add, Add)
BINARY(sub, Sub)
BINARY(mul, Mul)
BINARY(true_div, TrueDiv)
BINARY(int_div, IntDiv)
BINARY(mod, Mod)
BINARY(pow, Pow)
BINARY(maximum, Maximum)
BINARY(minimum, Minimum)
BINARY(eq, Eq)
BINARY(neq, Neq)
BINARY(lt, Lt)
BINARY(le, Le)
BINARY(gt, Gt)
BINARY(ge, Ge)
BINARY(and_, And)
BINARY(or_, Or)
BINARY(xor_, Xor)
UNARY(neg, Neg)
UNARY(abs, Abs)
UNARY(sgn, Sgn)
UNARY(sqr, Sqr)
UNARY(sqrt, Sqrt)
UNARY(exp, Exp)
UNARY(log, Log)
UNARY(log1p, Log1p)
UNARY(expm1, Expm1)
UNARY(tanh, Tanh)
UNARY(sin, Sin)
UNARY(cos, Cos)
UNARY(sigmoid, Sigmoid)
UNARY(softplus, Softplus)
UNARY(relu, Relu)
UNARY(not_, Not)
#undef BINARY
#undef UNARY

Variable clip(const Variable& x, const Operand& lo, const Operand& hi, SL where) {
  Variable l = operand_pair(x, lo).second, h = operand_pair(x, hi).second;
  return elemwise(OpCode::Clip, {x, l, h}, where);
}

Variable cast(const Variable& x, DType dtype, SL where) {
  if (x.dtype() == dtype) return x;
  ir::Attrs attrs;
  attrs.dtype = dtype;
  return elemwise(OpCode::Cast, {x}, where, attrs);
}

Variable switch_(const Variable& cond, const Operand& a, const Operand& b, SL where) {
  Variable va, vb;
  if (a.var.defined() || b.var.defined()) std::tie(va, vb) = operand_pair(a, b);
  else {
    va = operand_constant(a, a.integer_literal && b.integer_literal ? int64 : float64);
    vb = operand_constant(b, va.dtype());
  }
  return elemwise(OpCode::Switch, {cond, va, vb}, where);
}

namespace nnet {
Variable sigmoid(const Variable& x, SL where) { return tensor::sigmoid(x, where); }
Variable softplus(const Variable& x, SL where) { return tensor::softplus(x, where); }
Variable relu(const Variable& x, SL where) { return tensor::relu(x, where); }
}  // namespace nnet

}  // namespace graphjit::tensor

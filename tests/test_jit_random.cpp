// Differential test of the compiled path: random expression graphs run with
// Mode::fast_run (rewrites, fusion, LLVM kernels, BLAS), and some with
// fast_compile or debug, must give what the reference evaluator gives on the
// user's graph: outputs, gradients and shared-variable updates alike, or an
// exception of the same type from both.
//
// Every graph has its own seed, printed with the graph on a mismatch; set
// GRAPHJIT_RANDOM_GRAPH_SEED=<seed> to run only that graph, or
// GRAPHJIT_RANDOM_GRAPHS=<n> to run more graphs than the default 200, and
// GRAPHJIT_RANDOM_GRAPH_MODE=fast_run|fast_compile|debug to force the mode;
// GRAPHJIT_RANDOM_GRAPH_SHOW_ERRORS=1 prints the errors both modes raised.
// A graph depends on its seed alone: the generator draws from mt19937_64's
// raw output (fixed by the C++ standard, unlike std's distributions) and
// never twice within one expression (whose evaluation order is unspecified).
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::DType;
using graphjit::Shape;
using graphjit::Tensor;
using graphjit::Variable;

namespace {

constexpr std::uint64_t kFirstSeed = 20240611;
constexpr int kGraphs = 200;
constexpr int kMaxNodes = 25;  // a soft cap on a graph's size, so each stays fast to compile and evaluate
// Kernels over this many elements are split over the thread pool
// (compiler/exec/kernel.hpp, parallel_threshold); some graphs reach it.
constexpr std::int64_t kThreadedElements = 16 * 1024;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  int below(int n) { return static_cast<int>(engine_() % static_cast<std::uint64_t>(n)); }
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double p) { return unit() < p; }
  template <class C> const auto& pick(const C& c) {
    return c[static_cast<std::size_t>(below(static_cast<int>(c.size())))];
  }

 private:
  std::mt19937_64 engine_;
};

// A graph's dims are named by symbols; each symbol has one length per graph,
// so operands built for the same symbols always fit together. The builder
// adds symbols of its own (a sliced source's longer dim, concatenated parts).
using Dims = std::vector<int>;
using Mask = std::vector<bool>;

// What a graph is made of, drawn before it is built.
struct Plan {
  DType dtype = graphjit::float64;
  // At least kThreadedElements output elements. In float32 such a graph
  // uses only smooth functions: the JIT's exp/tanh/log differ from libm's by
  // a few ulp, and among thousands of float32 values a max, a comparison or
  // an argmax then meets a near-tie that picks another element (a real,
  // allowed difference, not a bug).
  bool large = false;
  std::vector<std::int64_t> sizes;  // the length of each symbol
  bool smooth() const { return large && dtype == graphjit::float32; }
};

// An input: floats in [-2, 2), integers in [-20, 20] (class labels in
// [0, classes) when classes > 0), or bools.
struct Leaf {
  Variable var;
  Dims dims;
  Mask bcast;
  DType dtype;
  std::int64_t classes = 0;
  bool floating() const { return graphjit::is_float(dtype); }
};

// Builds one random graph. expr(depth, dims, may_bcast) returns a value with
// exactly dims.size() dims, each of its symbol's length, and broadcastable
// only where may_bcast allows (dot operands and reduction inputs need exact
// shapes; elementwise operands broadcast). `values` is the float dtype the
// graph computes in: the plan's, or float64 for the same graph's float64
// twin, which must draw exactly what the plan's graph draws.
class GraphBuilder {
 public:
  GraphBuilder(Rng& rng, Plan& plan, DType values) : rng_(rng), plan_(plan), dtype_(values) {}

  Variable expr(int depth, const Dims& dims, const Mask& may_bcast) {
    ++nodes_;
    if (depth <= 0 || nodes_ > kMaxNodes || (depth <= 2 && rng_.chance(0.2))) return leaf(dims, may_bcast, dtype_);
    for (;;)
      if (std::optional<Variable> v = try_op(rng_.below(18), depth, dims, may_bcast)) return *v;
  }

  const std::vector<Leaf>& leaves() const { return leaves_; }

 private:
  static bool any(const Mask& m) { return std::find(m.begin(), m.end(), true) != m.end(); }

  // Op family `which`, or nullopt where it cannot make a value of these dims.
  std::optional<Variable> try_op(int which, int depth, const Dims& dims, const Mask& may_bcast) {
    const std::size_t n = dims.size();
    switch (which) {
      case 0:
      case 1: return unary(expr(depth - 1, dims, may_bcast));
      case 2:
      case 3: return binary(depth, dims, may_bcast);
      case 4: if (!plan_.smooth()) return compare_and_select(depth, dims, may_bcast); break;
      case 5: return cast_round_trip(expr(depth - 1, dims, may_bcast));
      case 6: if (n < 4) return reduce(depth, dims, may_bcast); break;
      case 7: if (any(may_bcast)) return reduce_keepdims(depth, dims, may_bcast); break;
      case 8: if (n >= 2) return permute(depth, dims, may_bcast); break;
      case 9: if (any(may_bcast)) return new_axis(depth, dims, may_bcast); break;
      case 10: if (n == 1 || n == 2) return dot(depth, dims, may_bcast); break;
      case 11: if (n == 1 || n == 2) return softmax(depth, dims, may_bcast); break;
      case 12: return from_integers(depth, dims, may_bcast);
      case 13: return reshape(depth, dims);
      case 14: return subtensor(depth, dims, may_bcast);
      case 15: if (n >= 1) return concatenate(depth, dims); break;
      case 16: return alloc(depth, dims, may_bcast);
      default: if (n == 1) return crossentropy(depth, dims); break;
    }
    return std::nullopt;
  }

  // A symbol for a dim that is summed over or multiplied away: in a large
  // graph one of the short ones, so that inputs stay within memory.
  int symbol() { return plan_.large ? 2 + rng_.below(2) : rng_.below(4); }
  int new_symbol(std::int64_t length) {
    plan_.sizes.push_back(length);
    return static_cast<int>(plan_.sizes.size()) - 1;
  }
  std::int64_t length(int symbol) const { return plan_.sizes[static_cast<std::size_t>(symbol)]; }

  // A constant of the graph's dtype; in a float32 graph's twin, the float32 value.
  Variable number(double v) const {
    return graphjit::constant(plan_.dtype == graphjit::float32 ? double(float(v)) : v, dtype_);
  }

  Variable leaf(const Dims& dims, const Mask& may_bcast, DType dtype, std::int64_t classes = 0) {
    Mask bcast(dims.size());
    for (std::size_t d = 0; d < dims.size(); ++d) bcast[d] = may_bcast[d] && rng_.chance(0.3);
    std::vector<const Leaf*> fitting;
    for (const Leaf& l : leaves_)
      if (l.dims == dims && l.bcast == bcast && l.dtype == dtype && l.classes == classes) fitting.push_back(&l);
    if (!fitting.empty() && rng_.chance(0.5)) return rng_.pick(fitting)->var;
    leaves_.push_back({T::tensor(dtype, bcast, fmt::format("x{}", leaves_.size())), dims, bcast, dtype, classes});
    return leaves_.back().var;
  }

  // Functions with bounded outputs or safe domains, so deep graphs stay finite.
  Variable unary(const Variable& x) {
    switch (rng_.below(14)) {
      case 0: return -x;
      case 1: return T::tanh(x);
      case 2: return T::sigmoid(x);
      case 3: return T::softplus(x);
      case 4: return T::relu(x);
      case 5: return T::sqr(T::tanh(x)) * 3;
      case 6: return T::exp(-T::sqr(x));
      case 7: return T::exp(T::clip(x, -4, 4));
      // Not log(abs(x) + 1): stabilize turns log(1 + u) into log1p(u), which in
      // float32 is more accurate than the reference's literal log(1 + u) by more
      // than this test's tolerance when u is small (test_passes_stabilize covers it).
      case 8: return T::log(T::abs(x) + 1.5);
      case 9: return T::log1p(T::sqr(x));
      case 10: return T::sqrt(T::sqr(x) + 0.5);
      case 11: return T::clip(x, -0.75, 0.75);
      case 12: return T::abs(x) * 0.5;
      default: return T::pow(T::abs(x) + 0.5, number(1.5));
    }
  }

  // The second operand is sometimes of lower rank (a vector against a
  // matrix, a scalar) or a C++ number, to exercise broadcasting.
  Variable binary(int depth, const Dims& dims, const Mask& may_bcast) {
    Variable a = expr(depth - 1, dims, may_bcast);
    Variable b;
    std::optional<double> literal;
    if (rng_.chance(0.15)) {
      literal = 0.25 + rng_.below(8) * 0.25;
      b = number(*literal);
    } else if (!dims.empty() && rng_.chance(0.3)) {
      const std::size_t keep = static_cast<std::size_t>(rng_.below(static_cast<int>(dims.size())));
      b = expr(depth - 1, Dims(dims.end() - keep, dims.end()), Mask(may_bcast.end() - keep, may_bcast.end()));
    } else {
      b = expr(depth - 1, dims, may_bcast);
    }
    // A number goes in as a C++ literal (Theano's autocasting) for + - *,
    // as a 0-d constant otherwise.
    const bool swap = rng_.chance(0.5);
    const graphjit::Operand other = literal ? graphjit::Operand(*literal) : graphjit::Operand(b);
    const int op = rng_.below(plan_.smooth() ? 4 : 6);
    switch (op) {
      case 0: return swap ? other + a : a + other;
      case 1: return swap ? other - a : a - other;
      case 2: return swap ? other * a : a * other;
      case 3: return swap ? b / (T::abs(a) + 1) : a / (T::abs(b) + 1);
      case 4: return swap ? T::maximum(b, a) : T::maximum(a, b);
      default: return swap ? T::minimum(b, a) : T::minimum(a, b);
    }
  }

  Variable compare_and_select(int depth, const Dims& dims, const Mask& may_bcast) {
    Variable p = expr(depth - 1, dims, may_bcast);
    Variable q = expr(depth - 1, dims, may_bcast);
    Variable cond = rng_.chance(0.5) ? T::gt(p, q) : T::le(p, number(0.125));
    if (rng_.chance(0.5)) return T::cast(cond, dtype_) * p;
    Variable r = expr(depth - 1, dims, may_bcast);
    return T::switch_(cond, p, r);
  }

  // To the other float type and back: the JIT's casts must round like the
  // reference's. (In a float32 graph the round trip is exact; its twin skips it.)
  Variable cast_round_trip(const Variable& x) {
    const DType other = plan_.dtype == graphjit::float32 ? graphjit::float64 : graphjit::float32;
    if (dtype_ != plan_.dtype) return x;
    return T::cast(T::cast(x, other), dtype_);
  }

  // Integer and bool inputs: integer arithmetic (wrapping, floor division
  // and modulo, by 0 too) cast to the float type, or a bool input as a
  // switch's condition.
  Variable from_integers(int depth, const Dims& dims, const Mask& may_bcast) {
    if (rng_.chance(0.3)) {
      Variable cond = leaf(dims, may_bcast, graphjit::bool_);
      Variable a = expr(depth - 1, dims, may_bcast);
      if (rng_.chance(0.5)) return T::cast(cond, dtype_) * a;
      Variable b = expr(depth - 1, dims, may_bcast);
      return T::switch_(cond, a, b);
    }
    return T::cast(integers(2, dims, may_bcast), dtype_);
  }

  Variable integers(int depth, const Dims& dims, const Mask& may_bcast) {
    if (depth == 0 || rng_.chance(0.3))
      return leaf(dims, may_bcast, rng_.chance(0.5) ? graphjit::int32 : graphjit::int64);
    Variable a = integers(depth - 1, dims, may_bcast);
    Variable b = integers(depth - 1, dims, may_bcast);
    switch (rng_.below(7)) {
      case 0: return a + b;
      case 1: return a - b;
      case 2: return a * b;
      case 3: return T::int_div(a, b);
      case 4: return T::mod(a, b);
      case 5: return T::maximum(a, b);
      default: return T::abs(a) - b;
    }
  }

  // Reduces one or two extra axes away, or all axes for a scalar result.
  Variable reduce(int depth, const Dims& dims, const Mask& may_bcast) {
    Dims src = dims;
    Mask src_mask = may_bcast;
    std::vector<int> axes;
    const int extra = dims.empty() ? 1 + rng_.below(2) : (dims.size() == 1 && rng_.chance(0.3) ? 2 : 1);
    for (int k = 0; k < extra; ++k) {
      const int at = rng_.below(static_cast<int>(src.size()) + 1);
      src.insert(src.begin() + at, symbol());
      // A reduced dim may itself be broadcastable: a sum over a length-1 dim.
      src_mask.insert(src_mask.begin() + at, rng_.chance(0.15));
      for (int& a : axes)
        if (a >= at) ++a;
      axes.push_back(at);
    }
    Variable x = expr(depth - 1, src, src_mask);
    // Sometimes a negative axis, or all axes as nullopt.
    T::Axes axis_arg = axes;
    if (dims.empty() && rng_.chance(0.5))
      axis_arg = std::nullopt;
    else if (rng_.chance(0.3))
      for (int& a : *axis_arg) a -= static_cast<int>(src.size());
    const int op = rng_.below(plan_.smooth() ? 3 : 6);
    switch (op) {
      case 0: return T::sum(x, axis_arg);
      case 1: return T::mean(x, axis_arg);
      // Factors in [0.875, 1.125], so that products of hundreds stay finite.
      case 2: return T::prod(1 + 0.125 * T::tanh(x), axis_arg);
      case 3: return T::max(x, axis_arg);
      case 4: return T::min(x, axis_arg);
      default:
        if (axis_arg && axis_arg->size() > 1) return T::sum(x, axis_arg);
        return T::cast(T::argmax(x, axis_arg ? std::optional<int>(axis_arg->front()) : std::nullopt), dtype_);
    }
  }

  // A reduction with keepdims: its result is broadcastable along the axis.
  Variable reduce_keepdims(int depth, const Dims& dims, const Mask& may_bcast) {
    std::vector<int> candidates;
    for (std::size_t d = 0; d < dims.size(); ++d)
      if (may_bcast[d]) candidates.push_back(static_cast<int>(d));
    const int axis = rng_.pick(candidates);
    Mask src_mask = may_bcast;
    src_mask[static_cast<std::size_t>(axis)] = false;
    Variable x = expr(depth - 1, dims, src_mask);
    switch (rng_.below(plan_.smooth() ? 2 : 3)) {
      case 0: return T::sum(x, std::vector<int>{axis}, true);
      case 1: return T::mean(x, std::vector<int>{axis}, true);
      default: return T::max(x, std::vector<int>{axis}, true);
    }
  }

  // A transpose, or a permutation of a 3-d or 4-d value's axes.
  Variable permute(int depth, const Dims& dims, const Mask& may_bcast) {
    std::vector<std::int64_t> order(dims.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    if (dims.size() == 2)
      order = {1, 0};
    else
      while (std::is_sorted(order.begin(), order.end()))
        for (std::size_t i = order.size() - 1; i > 0; --i)
          std::swap(order[i], order[static_cast<std::size_t>(rng_.below(static_cast<int>(i) + 1))]);
    // Output dim i is source dim order[i].
    Dims src(dims.size());
    Mask src_mask(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) {
      src[static_cast<std::size_t>(order[i])] = dims[i];
      src_mask[static_cast<std::size_t>(order[i])] = may_bcast[i];
    }
    Variable x = expr(depth - 1, src, src_mask);
    if (dims.size() == 2 && rng_.chance(0.5)) return rng_.chance(0.5) ? x.T() : T::transpose(x);
    return T::dimshuffle(x, order);
  }

  // dimshuffle with 'x': a value of one dim less, broadcast along a new axis.
  Variable new_axis(int depth, const Dims& dims, const Mask& may_bcast) {
    std::vector<int> candidates;
    for (std::size_t d = 0; d < dims.size(); ++d)
      if (may_bcast[d]) candidates.push_back(static_cast<int>(d));
    const std::size_t at = static_cast<std::size_t>(rng_.pick(candidates));
    Dims src = dims;
    Mask src_mask = may_bcast;
    src.erase(src.begin() + static_cast<std::ptrdiff_t>(at));
    src_mask.erase(src_mask.begin() + static_cast<std::ptrdiff_t>(at));
    Variable x = expr(depth - 1, src, src_mask);
    std::vector<std::int64_t> pattern;
    for (std::size_t i = 0, k = 0; i < dims.size(); ++i)
      pattern.push_back(i == at ? -1 : static_cast<std::int64_t>(k++));
    return T::dimshuffle(x, pattern);
  }

  // Matrix-matrix, vector-matrix or matrix-vector products; the inner dim
  // is never broadcastable (its length must match on both sides).
  Variable dot(int depth, const Dims& dims, const Mask& may_bcast) {
    const int k = symbol();
    if (dims.size() == 2) {
      Variable a = expr(depth - 1, {dims[0], k}, {may_bcast[0], false});
      Variable b = expr(depth - 1, {k, dims[1]}, {false, may_bcast[1]});
      return T::dot(a, b);
    }
    if (rng_.chance(0.5)) {
      Variable v = expr(depth - 1, {k}, {false});
      Variable m = expr(depth - 1, {k, dims[0]}, {false, may_bcast[0]});
      return T::dot(v, m);
    }
    Variable m = expr(depth - 1, {dims[0], k}, {may_bcast[0], false});
    Variable v = expr(depth - 1, {k}, {false});
    return T::dot(m, v);
  }

  Variable softmax(int depth, const Dims& dims, const Mask& may_bcast) {
    Variable x = expr(depth - 1, dims, may_bcast);
    return rng_.chance(0.7) ? T::softmax(x) : T::log_softmax(x);
  }

  // The same elements in another arrangement (the dims reversed, or one
  // flat vector), reshaped to `dims` by constant lengths, one of them
  // sometimes -1.
  Variable reshape(int depth, const Dims& dims) {
    std::vector<std::int64_t> target;
    std::int64_t total = 1;
    for (int d : dims) {
      target.push_back(length(d));
      total *= length(d);
    }
    const Dims src = dims.size() >= 2 && rng_.chance(0.5) ? Dims(dims.rbegin(), dims.rend()) : Dims{new_symbol(total)};
    Variable x = expr(depth - 1, src, Mask(src.size(), false));
    if (total > 0 && !target.empty() && rng_.chance(0.3)) target[static_cast<std::size_t>(rng_.below(int(target.size())))] = -1;
    return x.reshape(target);
  }

  // `dims` cut out of a bigger value: an integer index into an extra
  // leading axis (negative from the end), or a window, every other
  // element or the reverse of a longer dim.
  Variable subtensor(int depth, const Dims& dims, const Mask& may_bcast) {
    Dims src = dims;
    Mask src_mask = may_bcast;
    if (dims.empty() || rng_.chance(0.3)) {
      const int n = 1 + rng_.below(4), i = rng_.below(2 * n) - n;
      src.insert(src.begin(), new_symbol(n));
      src_mask.insert(src_mask.begin(), false);
      Variable x = expr(depth - 1, src, src_mask);
      return x[i];
    }
    const std::size_t axis = static_cast<std::size_t>(rng_.below(static_cast<int>(dims.size())));
    const std::int64_t n = length(dims[axis]), skip = rng_.below(3), spare = rng_.below(3);
    auto at = [](std::int64_t v) { return std::optional<Variable>(graphjit::constant(v, graphjit::int64)); };
    graphjit::Slice cut;
    switch (rng_.below(3)) {
      case 0:  // a window, its start sometimes counted from the end
        src[axis] = new_symbol(skip + n + spare);
        cut = rng_.chance(0.5) ? graphjit::Slice(at(skip), at(skip + n)) : graphjit::Slice(at(-(n + spare)), at(skip + n));
        break;
      case 1:  // every other element
        src[axis] = new_symbol(skip + std::max<std::int64_t>(2 * n - 1, 0) + spare);
        cut = graphjit::Slice(at(skip), at(skip + 2 * n), at(2));
        break;
      default:  // the reverse
        cut = graphjit::Slice(std::nullopt, std::nullopt, at(-1));
    }
    src_mask[axis] = false;
    Variable x = expr(depth - 1, src, src_mask);
    std::vector<graphjit::Index> indices(dims.size(), graphjit::Index(graphjit::Slice()));
    indices[axis] = graphjit::Index(cut);
    return T::subtensor(x, indices);
  }

  // Two parts along one axis; one of them is sometimes empty.
  Variable concatenate(int depth, const Dims& dims) {
    const std::size_t axis = static_cast<std::size_t>(rng_.below(static_cast<int>(dims.size())));
    const std::int64_t n = length(dims[axis]);
    const std::int64_t first = rng_.chance(0.1) ? (rng_.chance(0.5) ? 0 : n) : rng_.below(static_cast<int>(n) + 1);
    Dims a_dims = dims, b_dims = dims;
    a_dims[axis] = new_symbol(first);
    b_dims[axis] = new_symbol(n - first);
    // concatenate does not broadcast: the parts' other dims have equal lengths.
    const Mask mask(dims.size(), false);
    Variable a = expr(depth - 1, a_dims, mask);
    Variable b = expr(depth - 1, b_dims, mask);
    const int given = rng_.chance(0.3) ? static_cast<int>(axis) - static_cast<int>(dims.size()) : static_cast<int>(axis);
    return T::concatenate({a, b}, given);
  }

  // Alloc (behind zeros_like and ones_like): a value broadcast to another's shape.
  Variable alloc(int depth, const Dims& dims, const Mask& may_bcast) {
    Variable shape_of = expr(depth - 1, dims, may_bcast);
    Variable v = expr(depth - 1, dims, may_bcast);
    return rng_.chance(0.5) ? T::ones_like(shape_of) * v : T::zeros_like(shape_of) + v;
  }

  // The crossentropy of a softmax with integer class labels, one per row.
  Variable crossentropy(int depth, const Dims& dims) {
    const int classes = new_symbol(1 + rng_.below(6));
    Variable x = expr(depth - 1, {dims[0], classes}, {false, false});
    Variable labels = leaf({dims[0]}, {false}, graphjit::int64, length(classes));
    return T::categorical_crossentropy(T::softmax(x), labels);
  }

  Rng& rng_;
  Plan& plan_;
  DType dtype_;
  std::vector<Leaf> leaves_;
  int nodes_ = 0;
};

// Values drawn from the test's own generator (not RandomState, whose
// distribution is the standard library's).
Tensor values_for(Rng& rng, const Leaf& leaf, const Shape& shape) {
  Tensor t = Tensor::empty(shape, graphjit::float64);
  double* p = t.data<double>();
  for (std::int64_t i = 0; i < t.size(); ++i) {
    if (leaf.floating())
      p[i] = -2 + 4 * rng.unit();
    else if (leaf.dtype == graphjit::bool_)
      p[i] = rng.below(2);
    else
      p[i] = leaf.classes > 0 ? rng.below(static_cast<int>(leaf.classes)) : rng.below(41) - 20;
  }
  return t.astype(leaf.dtype);
}

// An argument of the given shape, laid out as a contiguous tensor or as a
// view: transposed, a strided slice of a bigger tensor, reversed (negative
// strides), or one row repeated along an axis (stride 0).
Tensor argument(Rng& rng, const Leaf& leaf, const Shape& shape, std::string& layout) {
  const int kind = shape.empty() ? 0 : rng.below(5);
  const int axis = shape.empty() ? 0 : rng.below(static_cast<int>(shape.size()));
  const auto ax = static_cast<std::size_t>(axis);
  if (kind == 1 && shape.size() >= 2) {
    layout = "transposed";
    return values_for(rng, leaf, Shape(shape.rbegin(), shape.rend())).transpose();
  }
  if (kind == 2) {
    const std::int64_t step = 2 + rng.below(2), start = rng.below(3);
    Shape bigger = shape;
    bigger[ax] = start + step * shape[ax] + 1;
    layout = fmt::format("slice(axis {}, start {}, step {})", axis, start, step);
    return values_for(rng, leaf, bigger).slice(axis, start, start + step * shape[ax], step);
  }
  if (kind == 3) {
    layout = fmt::format("reversed along axis {}", axis);
    return values_for(rng, leaf, shape).slice(axis, -1, std::numeric_limits<std::int64_t>::min(), -1);
  }
  if (kind == 4) {
    Shape one = shape;
    one[ax] = 1;
    layout = fmt::format("stride 0 along axis {}", axis);
    return values_for(rng, leaf, one).broadcast_to(shape);
  }
  layout = "contiguous";
  return values_for(rng, leaf, shape);
}

// "" when `got` equals `want` up to rounding. Each element may be off by
// rtol of itself; in float32 also by 4 times the reference's own rounding
// error there (`exact`: the same graph evaluated in float64), so that an
// ill-conditioned element (cancellation, a near-tie) is judged by how
// ill-conditioned it is; and by a floor of a few units in the last place
// of the largest element, for cancellation the float64 evaluation happens
// to round exactly too.
std::string difference(const Tensor& got, const Tensor& want, const Tensor* exact) {
  if (got.dtype() != want.dtype())
    return fmt::format("dtype {} instead of {}", graphjit::dtype_name(got.dtype()), graphjit::dtype_name(want.dtype()));
  if (got.shape() != want.shape())
    return fmt::format("shape {} instead of {}", graphjit::shape_str(got.shape()), graphjit::shape_str(want.shape()));
  const bool f32 = want.dtype() == graphjit::float32;
  const double rtol = f32 ? 1e-5 : 1e-10, floor_ulps = f32 ? 0x1.0p-20 : 0x1.0p-42;
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  const std::vector<double> x = exact ? exact->to_vector<double>() : w;
  double scale = 1;
  for (double v : w)
    if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double tol = rtol * std::abs(w[i]) + 4 * std::abs(w[i] - x[i]) + floor_ulps * scale;
    const bool same = (std::isnan(g[i]) && std::isnan(w[i])) || g[i] == w[i] || std::abs(g[i] - w[i]) <= tol;
    if (!same)
      return fmt::format("element {} (flat) is {:.17g} instead of {:.17g} (tolerance {:.3g})", i, g[i], w[i], tol);
  }
  return "";
}

}  // namespace

namespace {

// Everything drawn before a graph is built.
struct Draw {
  Plan plan;
  Dims dims;  // the output's
  Mask mask;
  int depth = 0;
  bool state = false;  // a shared variable updated from the output
};

Draw draw(Rng& rng) {
  Draw d;
  d.plan.dtype = rng.chance(0.5) ? graphjit::float64 : graphjit::float32;
  d.plan.large = rng.chance(0.1);
  // Mostly small lengths (1 is a non-broadcastable length-1 dim), sometimes
  // one long enough for the kernels' vector loops; a large graph's output
  // is a long vector or a wide matrix, for the kernels' threads.
  const std::vector<std::int64_t> small{1, 2, 3, 4, 5, 7, 8, 9, 16};
  std::vector<std::int64_t>& sizes = d.plan.sizes;
  sizes.resize(4);
  for (auto& s : sizes) s = rng.pick(small);
  if (d.plan.large) {
    const int rank = 1 + rng.below(2);
    sizes[0] = rank == 1 ? kThreadedElements + rng.below(4096) : 128 + rng.below(64);
    if (rank == 2) sizes[1] = 128 + rng.below(64);
    for (int k = 0; k < rank; ++k) {
      d.dims.push_back(k);
      d.mask.push_back(false);
    }
  } else {
    if (rng.chance(0.15)) {
      const int which = rng.below(4);
      sizes[static_cast<std::size_t>(which)] = 33 + rng.below(100);
    }
    const int rank = rng.chance(0.15) ? 3 + rng.below(2) : rng.below(3);
    for (int k = 0; k < rank; ++k) {
      d.dims.push_back(rng.below(4));
      d.mask.push_back(rng.chance(0.3));
    }
  }
  d.depth = 3 + rng.below(4);
  d.state = rng.chance(0.25);
  return d;
}

// The function a graph is compiled into: its inputs (the leaves, then the
// weights of the cost), its outputs (the output, then the gradient of
// sum(output * weights) for every float leaf) and, sometimes, a shared
// variable updated in place from the output.
struct Graph {
  Variable out;
  std::vector<Variable> inputs;
  std::vector<Variable> outputs;
  std::vector<std::string> output_names;
  std::optional<graphjit::SharedVariable> state;
  Variable update;
  Tensor initial;
};

Graph assemble(const GraphBuilder& builder, const Variable& out, const Draw& d, DType dtype, const Tensor& initial) {
  Graph g;
  g.out = out;
  std::vector<Variable> wrt;
  for (const Leaf& leaf : builder.leaves()) {
    g.inputs.push_back(leaf.var);
    if (leaf.floating()) wrt.push_back(leaf.var);
  }
  Variable weights = T::tensor(dtype, out.broadcastable(), "weights");
  g.inputs.push_back(weights);
  g.outputs = {out};
  g.output_names = {"the output"};
  const std::vector<Variable> grads = T::grad(T::sum(out * weights), wrt, true);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    g.outputs.push_back(grads[i]);
    g.output_names.push_back("the gradient w.r.t. " + wrt[i].name());
  }
  if (d.state) {
    g.initial = initial.astype(dtype);
    g.state = graphjit::shared(g.initial, "state", false, out.broadcastable());
    g.update = *g.state * 0.5 + out;
  }
  return g;
}

// What a function gave: its outputs for each call, then the shared
// variable's value after them; or the exception it threw.
struct Run {
  std::vector<Tensor> values;
  std::string error, error_type;
  std::optional<graphjit::Function> function;
};

Run evaluate(const Graph& g, const std::vector<graphjit::Argument>& args, graphjit::Mode mode) {
  Run run;
  try {
    graphjit::FunctionOptions options{.on_unused_input = graphjit::OnUnusedInput::ignore, .mode = mode};
    if (g.state) options.updates = {{*g.state, g.update}};
    run.function = graphjit::function(g.inputs, g.outputs, options);
    if (g.state) graphjit::SharedVariable(*g.state).set_value(g.initial);  // a handle on the same variable
    // With a state, a second call sees the first one's update.
    for (int call = 0; call < (g.state ? 2 : 1); ++call)
      for (Tensor& t : run.function->call(args)) run.values.push_back(t);
    if (g.state) run.values.push_back(g.state->get_value());
  } catch (const std::exception& e) {
    run.error = e.what();
    run.error_type = typeid(e).name();
  }
  return run;
}

std::string value_name(const Graph& g, std::size_t i) {
  const std::size_t per_call = g.outputs.size();
  if (g.state && i == 2 * per_call) return "the shared variable after two calls";
  return g.output_names[i % per_call] + (g.state ? fmt::format(" (call {})", i / per_call + 1) : "");
}

struct Outcome {
  bool ok = true;
  bool threw = false;  // both evaluations threw the same exception type
  std::string report;
};

// The graph with seed `seed` and its float64 twin when it computes in
// float32 (the twin's values serve only to judge float32 rounding).
struct Case {
  Draw d;
  Graph graph;
  std::optional<Graph> twin;
  std::vector<graphjit::Argument> args, twin_args;
  std::string arg_desc;
  std::string mode_name;
};

Case make_case(std::uint64_t seed) {
  Rng rng(seed);
  Case c{draw(rng)};
  const DType dtype = c.d.plan.dtype;
  Plan twin_plan = c.d.plan;
  Rng twin_rng = rng;
  GraphBuilder builder(rng, c.d.plan, dtype);
  Variable out = builder.expr(c.d.depth, c.d.dims, c.d.mask);
  std::optional<GraphBuilder> twin_builder;
  std::optional<Variable> twin_out;
  if (dtype == graphjit::float32) {
    twin_builder.emplace(twin_rng, twin_plan, graphjit::float64);
    twin_out = twin_builder->expr(c.d.depth, c.d.dims, c.d.mask);
  }
  Shape out_shape;
  for (std::size_t d = 0; d < c.d.dims.size(); ++d)
    out_shape.push_back(out.broadcastable()[d] ? 1 : c.d.plan.sizes[static_cast<std::size_t>(c.d.dims[d])]);
  const Leaf weights_leaf{Variable(), {}, {}, graphjit::float64};
  const Tensor initial = values_for(rng, weights_leaf, out_shape).astype(dtype);
  c.graph = assemble(builder, out, c.d, dtype, initial);
  if (twin_out) c.twin = assemble(*twin_builder, *twin_out, c.d, graphjit::float64, initial);

  for (const Leaf& leaf : builder.leaves()) {
    Shape shape;
    for (std::size_t d = 0; d < leaf.dims.size(); ++d)
      shape.push_back(leaf.bcast[d] ? 1 : c.d.plan.sizes[static_cast<std::size_t>(leaf.dims[d])]);
    std::string layout;
    const Tensor value = argument(rng, leaf, shape, layout);
    c.args.push_back(value);
    c.twin_args.push_back(leaf.floating() ? value.astype(graphjit::float64) : value);
    c.arg_desc +=
        fmt::format("  {}: {} {}, {}\n", leaf.var.name(), leaf.var.type_str(), graphjit::shape_str(shape), layout);
  }
  const Tensor weights = values_for(rng, weights_leaf, out_shape);
  c.args.push_back(weights.astype(dtype));
  c.twin_args.push_back(weights.astype(dtype).astype(graphjit::float64));
  // Mostly fast_run; fast_compile runs the kernels on the graph nearly as
  // written, debug mode checks every stored value itself.
  const int pick = rng.below(20);
  c.mode_name = pick < 15 ? "fast_run" : pick < 18 ? "fast_compile" : "debug";
  if (const char* forced = std::getenv("GRAPHJIT_RANDOM_GRAPH_MODE"); forced && *forced) c.mode_name = forced;
  return c;
}

graphjit::Mode mode_named(const std::string& name) {
  return name == "fast_compile" ? graphjit::Mode::fast_compile
         : name == "debug"      ? graphjit::Mode::debug
                                : graphjit::Mode::fast_run;
}

// Compares the compiled run with the reference run, value by value.
std::string compare(const Case& c, const Run& want, const Run& got, const Run* exact) {
  if (!want.error.empty() || !got.error.empty()) {
    if (!want.error.empty() && !got.error.empty() && want.error_type == got.error_type) return "";
    return fmt::format("the reference {}, the compiled function {}",
                       want.error.empty() ? "ran" : "threw " + want.error,
                       got.error.empty() ? "ran" : "threw " + got.error);
  }
  if (got.values.size() != want.values.size()) return "a different number of values";
  for (std::size_t i = 0; i < want.values.size(); ++i) {
    const Tensor* x = exact && exact->error.empty() ? &exact->values[i] : nullptr;
    std::string diff = difference(got.values[i], want.values[i], x);
    if (!diff.empty()) return value_name(c.graph, i) + " differs: " + diff;
  }
  return "";
}

Outcome run_one(std::uint64_t seed) {
  Case c = make_case(seed);
  const Run want = evaluate(c.graph, c.args, graphjit::Mode::reference);
  const Run got = evaluate(c.graph, c.args, mode_named(c.mode_name));
  std::optional<Run> exact;
  if (c.twin) exact = evaluate(*c.twin, c.twin_args, graphjit::Mode::reference);
  Outcome outcome;
  outcome.threw = !want.error.empty() && !got.error.empty();
  if (outcome.threw && std::getenv("GRAPHJIT_RANDOM_GRAPH_SHOW_ERRORS"))
    MESSAGE("seed " << seed << " raised in both modes: " << want.error);
  const std::string what = compare(c, want, got, exact ? &*exact : nullptr);
  if (what.empty()) return outcome;
  outcome.ok = false;
  outcome.report = fmt::format(
      "graph with seed {} ({}{}, depth {}, {}{}; rerun alone with GRAPHJIT_RANDOM_GRAPH_SEED={}): {}\n"
      "inputs:\n{}graph:\n{}",
      seed, graphjit::dtype_name(c.d.plan.dtype), c.d.plan.large ? ", large" : "", c.d.depth, c.mode_name,
      c.graph.state ? ", with a shared update" : "", seed, what, c.arg_desc, graphjit::debugprint(c.graph.out));
  if (got.function) outcome.report += "\ncompiled graph:\n" + graphjit::debugprint(*got.function);
  return outcome;
}

}  // namespace

TEST_CASE("random graphs: the compiled modes equal the reference evaluator, outputs, gradients and updates") {
  std::vector<std::uint64_t> seeds;
  if (const char* only = std::getenv("GRAPHJIT_RANDOM_GRAPH_SEED"); only && *only) {
    seeds.push_back(std::strtoull(only, nullptr, 10));
  } else {
    const char* count = std::getenv("GRAPHJIT_RANDOM_GRAPHS");
    const int n = count && *count ? std::atoi(count) : kGraphs;
    for (int i = 0; i < n; ++i) seeds.push_back(kFirstSeed + static_cast<std::uint64_t>(i));
  }
  int failures = 0, threw = 0;
  for (std::uint64_t seed : seeds) {
    const Outcome outcome = run_one(seed);
    threw += outcome.threw;
    if (outcome.ok) continue;
    ++failures;
    FAIL_CHECK(outcome.report);
  }
  MESSAGE(seeds.size() << " graphs, " << threw << " of them raised the same error in both modes");
  CHECK(failures == 0);
  // Most graphs must run: one that raises compares only the exception's type.
  CHECK(threw * 10 <= static_cast<int>(seeds.size()));
}

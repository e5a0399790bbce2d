// Differential test of the compiled path: random expression graphs run with
// Mode::fast_run (rewrites, fusion, LLVM kernels, BLAS), and some with
// fast_compile or debug, must give what the reference evaluator gives on the
// user's graph, outputs and gradients alike.
//
// Every graph has its own seed, printed with the graph on a mismatch; set
// GRAPHJIT_RANDOM_GRAPH_SEED=<seed> to run only that graph, or
// GRAPHJIT_RANDOM_GRAPHS=<n> to run more graphs than the default 200, and
// GRAPHJIT_RANDOM_GRAPH_MODE=fast_run|fast_compile|debug to force the mode.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>
#include <optional>
#include <random>
#include <string>
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

// A graph's dims are named by symbols; each symbol has one length per graph,
// so operands built for the same symbols always fit together.
using Dims = std::vector<int>;
using Mask = std::vector<bool>;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  int below(int n) { return static_cast<int>(engine_() % static_cast<std::uint64_t>(n)); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine_) < p; }
  template <class C> const auto& pick(const C& c) {
    return c[static_cast<std::size_t>(below(static_cast<int>(c.size())))];
  }

 private:
  std::mt19937_64 engine_;
};

struct Leaf {
  Variable var;
  Dims dims;
  Mask bcast;
};

// Builds one random graph. expr(depth, dims, may_bcast) returns a value with
// exactly dims.size() dims, each of its symbol's length, and broadcastable
// only where may_bcast allows (dot operands and reduction inputs need exact
// shapes; elementwise operands broadcast).
class GraphBuilder {
 public:
  GraphBuilder(Rng& rng, DType dtype) : rng_(rng), dtype_(dtype) {}

  Variable expr(int depth, const Dims& dims, const Mask& may_bcast) {
    ++nodes_;
    if (depth <= 0 || nodes_ > kMaxNodes || (depth <= 2 && rng_.chance(0.2))) return leaf(dims, may_bcast);
    const int n = static_cast<int>(dims.size());
    for (;;) {
      switch (rng_.below(12)) {
        case 0:
        case 1: return unary(expr(depth - 1, dims, may_bcast));
        case 2:
        case 3: return binary(depth, dims, may_bcast);
        case 4: return compare_and_select(depth, dims, may_bcast);
        case 5: return cast_round_trip(expr(depth - 1, dims, may_bcast));
        case 6:
          if (n < 3) return reduce(depth, dims, may_bcast);
          break;
        case 7:
          if (std::find(may_bcast.begin(), may_bcast.end(), true) != may_bcast.end())
            return reduce_keepdims(depth, dims, may_bcast);
          break;
        case 8:
          if (n >= 2) return permute(depth, dims, may_bcast);
          break;
        case 9:
          if (std::find(may_bcast.begin(), may_bcast.end(), true) != may_bcast.end())
            return new_axis(depth, dims, may_bcast);
          break;
        case 10:
          if (n == 1 || n == 2) return dot(depth, dims, may_bcast);
          break;
        case 11:
          if (n == 1 || n == 2) {
            Variable x = expr(depth - 1, dims, may_bcast);
            return rng_.chance(0.7) ? T::softmax(x) : T::log_softmax(x);
          }
          break;
      }
    }
  }

  const std::vector<Leaf>& leaves() const { return leaves_; }

 private:
  int symbol() { return rng_.below(4); }

  Variable leaf(const Dims& dims, const Mask& may_bcast) {
    Mask bcast(dims.size());
    for (std::size_t d = 0; d < dims.size(); ++d) bcast[d] = may_bcast[d] && rng_.chance(0.3);
    std::vector<const Leaf*> fitting;
    for (const Leaf& l : leaves_)
      if (l.dims == dims && l.bcast == bcast) fitting.push_back(&l);
    if (!fitting.empty() && rng_.chance(0.5)) return rng_.pick(fitting)->var;
    leaves_.push_back({T::tensor(dtype_, bcast, fmt::format("x{}", leaves_.size())), dims, bcast});
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
      case 11: return T::clip(x, -0.8, 0.8);
      case 12: return T::abs(x) * 0.5;
      default: return T::pow(T::abs(x) + 0.5, graphjit::constant(1.5, dtype_));
    }
  }

  // The second operand is sometimes of lower rank (a vector against a
  // matrix, a scalar) or a C++ number, to exercise broadcasting.
  Variable binary(int depth, const Dims& dims, const Mask& may_bcast) {
    Variable a = expr(depth - 1, dims, may_bcast);
    Variable b;
    std::optional<double> number;
    if (rng_.chance(0.15)) {
      number = 0.25 + rng_.below(8) * 0.25;
    } else if (!dims.empty() && rng_.chance(0.3)) {
      const std::size_t keep = static_cast<std::size_t>(rng_.below(static_cast<int>(dims.size())));
      b = expr(depth - 1, Dims(dims.end() - keep, dims.end()), Mask(may_bcast.end() - keep, may_bcast.end()));
    } else {
      b = expr(depth - 1, dims, may_bcast);
    }
    // A number goes in as a C++ literal (Theano's autocasting) for + - *,
    // as a 0-d constant otherwise.
    if (number) b = graphjit::constant(*number, dtype_);
    const bool swap = rng_.chance(0.5);
    const graphjit::Operand other = number ? graphjit::Operand(*number) : graphjit::Operand(b);
    switch (rng_.below(6)) {
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
    Variable cond = rng_.chance(0.5) ? T::gt(p, q) : T::le(p, graphjit::constant(0.1, dtype_));
    if (rng_.chance(0.5)) return T::cast(cond, dtype_) * p;
    return T::switch_(cond, p, expr(depth - 1, dims, may_bcast));
  }

  // To the other float type and back: the JIT's casts must round like the reference's.
  Variable cast_round_trip(const Variable& x) {
    const DType other = dtype_ == graphjit::float32 ? graphjit::float64 : graphjit::float32;
    return T::cast(T::cast(x, other), dtype_);
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
    switch (rng_.below(4)) {
      case 0: return T::sum(x, axis_arg);
      case 1: return T::mean(x, axis_arg);
      case 2: return T::max(x, axis_arg);
      default: return T::min(x, axis_arg);
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
    switch (rng_.below(3)) {
      case 0: return T::sum(x, std::vector<int>{axis}, true);
      case 1: return T::mean(x, std::vector<int>{axis}, true);
      default: return T::max(x, std::vector<int>{axis}, true);
    }
  }

  // A transpose, or a permutation of a 3-d value's axes.
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
    if (dims.size() == 2)
      return T::dot(expr(depth - 1, {dims[0], k}, {may_bcast[0], false}),
                    expr(depth - 1, {k, dims[1]}, {false, may_bcast[1]}));
    if (rng_.chance(0.5))
      return T::dot(expr(depth - 1, {k}, {false}), expr(depth - 1, {k, dims[0]}, {false, may_bcast[0]}));
    return T::dot(expr(depth - 1, {dims[0], k}, {may_bcast[0], false}), expr(depth - 1, {k}, {false}));
  }

  Rng& rng_;
  DType dtype_;
  std::vector<Leaf> leaves_;
  int nodes_ = 0;
};

// An argument of the given shape, sometimes laid out as a transposed or
// strided view of a bigger tensor, to exercise the kernels' stride handling.
Tensor argument(Rng& rng, graphjit::RandomState& values, const Shape& shape, DType dtype, std::string& layout) {
  const int kind = shape.empty() ? 0 : rng.below(3);
  if (kind == 1 && shape.size() >= 2) {
    layout = "transposed";
    Shape reversed(shape.rbegin(), shape.rend());
    return values.uniform(-2, 2, reversed, dtype).transpose();
  }
  if (kind >= 1) {
    const int axis = rng.below(static_cast<int>(shape.size()));
    const std::int64_t step = 2 + rng.below(2), start = rng.below(3);
    Shape bigger = shape;
    bigger[static_cast<std::size_t>(axis)] = start + step * shape[static_cast<std::size_t>(axis)] + 1;
    layout = fmt::format("slice(axis {}, start {}, step {})", axis, start, step);
    return values.uniform(-2, 2, bigger, dtype)
        .slice(axis, start, start + step * shape[static_cast<std::size_t>(axis)], step);
  }
  layout = "contiguous";
  return values.uniform(-2, 2, shape, dtype);
}

// "" when `got` equals `want` up to rounding: each element within rtol of
// itself or of the tensor's largest magnitude, at least 1 (so that
// cancellation, e.g. a gradient that is mathematically 0, is not counted as
// a mismatch, while any real error is).
std::string difference(const Tensor& got, const Tensor& want, double rtol) {
  if (got.dtype() != want.dtype())
    return fmt::format("dtype {} instead of {}", graphjit::dtype_name(got.dtype()), graphjit::dtype_name(want.dtype()));
  if (got.shape() != want.shape())
    return fmt::format("shape {} instead of {}", graphjit::shape_str(got.shape()), graphjit::shape_str(want.shape()));
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double scale = 1;
  for (double v : w)
    if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < g.size(); ++i) {
    const bool same = (std::isnan(g[i]) && std::isnan(w[i])) || g[i] == w[i] ||
                      std::abs(g[i] - w[i]) <= rtol * (std::abs(w[i]) + scale);
    if (!same) return fmt::format("element {} (flat) is {:.17g} instead of {:.17g}", i, g[i], w[i]);
  }
  return "";
}

struct Outcome {
  bool ok = true;
  std::string report;
};

Outcome run_one(std::uint64_t seed) {
  Rng rng(seed);
  graphjit::RandomState values(seed);
  const DType dtype = rng.chance(0.5) ? graphjit::float64 : graphjit::float32;
  // Mostly small lengths (1 is a non-broadcastable length-1 dim); in float64
  // sometimes one long enough for the kernels' vector loops and threads.
  // Not in float32: the JIT's exp/tanh/log differ from libm's by a few ulp,
  // and among thousands of float32 values some max/min is then a near-tie
  // that picks another element (so its gradient goes elsewhere): a real,
  // allowed difference, not a bug.
  const std::vector<std::int64_t> small{1, 2, 3, 4, 5, 7, 8, 9, 16};
  std::vector<std::int64_t> sizes(4);
  for (auto& s : sizes) s = rng.pick(small);
  if (rng.chance(0.15)) {
    const std::size_t which = static_cast<std::size_t>(rng.below(4));
    const std::int64_t large = 33 + rng.below(100);
    if (dtype == graphjit::float64) sizes[which] = large;
  }

  const int rank = rng.chance(0.1) ? 3 : rng.below(3);
  Dims dims;
  Mask mask;
  for (int d = 0; d < rank; ++d) {
    dims.push_back(rng.below(4));
    mask.push_back(rng.chance(0.3));
  }
  const int depth = 3 + rng.below(4);
  GraphBuilder builder(rng, dtype);
  Variable out = builder.expr(depth, dims, mask);

  std::vector<Variable> inputs;
  std::vector<Tensor> args;
  std::string arg_desc;
  for (const Leaf& leaf : builder.leaves()) {
    Shape shape;
    for (std::size_t d = 0; d < leaf.dims.size(); ++d)
      shape.push_back(leaf.bcast[d] ? 1 : sizes[static_cast<std::size_t>(leaf.dims[d])]);
    std::string layout;
    inputs.push_back(leaf.var);
    args.push_back(argument(rng, values, shape, dtype, layout));
    arg_desc +=
        fmt::format("  {}: {} {}, {}\n", leaf.var.name(), leaf.var.type_str(), graphjit::shape_str(shape), layout);
  }

  // The cost projects the output on random weights (as verify_grad does):
  // sum(out) alone would make e.g. softmax's gradient exactly zero, all noise.
  Shape out_shape;
  for (std::size_t d = 0; d < dims.size(); ++d)
    out_shape.push_back(out.broadcastable()[d] ? 1 : sizes[static_cast<std::size_t>(dims[d])]);
  Variable weights = T::tensor(dtype, out.broadcastable(), "weights");
  std::vector<Variable> outputs{out};
  for (const Variable& g : T::grad(T::sum(out * weights), inputs, true)) outputs.push_back(g);
  std::vector<graphjit::Argument> call_args(args.begin(), args.end());
  call_args.push_back(values.uniform(-1, 1, out_shape, dtype));
  inputs.push_back(weights);
  // Mostly fast_run; fast_compile runs the kernels on the graph nearly as
  // written, debug mode checks every stored value itself.
  const int pick = rng.below(20);
  std::string mode_name = pick < 15 ? "fast_run" : pick < 18 ? "fast_compile" : "debug";
  if (const char* forced = std::getenv("GRAPHJIT_RANDOM_GRAPH_MODE"); forced && *forced) mode_name = forced;
  const graphjit::Mode mode = mode_name == "fast_compile" ? graphjit::Mode::fast_compile
                              : mode_name == "debug"      ? graphjit::Mode::debug
                                                          : graphjit::Mode::fast_run;

  Outcome outcome;
  auto fail = [&](const std::string& what) {
    outcome.ok = false;
    outcome.report = fmt::format(
        "graph with seed {} ({}, depth {}, {}; rerun alone with GRAPHJIT_RANDOM_GRAPH_SEED={}): "
        "{}\ninputs:\n{}graph:\n{}",
        seed, graphjit::dtype_name(dtype), depth, mode_name, seed, what, arg_desc, graphjit::debugprint(out));
  };
  std::vector<Tensor> want, got;
  try {
    want = graphjit::function(inputs, outputs,
                              {.on_unused_input = graphjit::OnUnusedInput::ignore, .mode = graphjit::Mode::reference})
               .call(call_args);
  } catch (const std::exception& e) {
    fail(fmt::format("the reference evaluator threw (a bug in the generator or in an op): {}", e.what()));
    return outcome;
  }
  std::optional<graphjit::Function> fast;
  try {
    fast = graphjit::function(inputs, outputs, {.on_unused_input = graphjit::OnUnusedInput::ignore, .mode = mode});
    got = fast->call(call_args);
  } catch (const std::exception& e) {
    fail(fmt::format("the compiled function threw: {}", e.what()));
    if (fast) outcome.report += "\ncompiled graph:\n" + graphjit::debugprint(*fast);
    return outcome;
  }
  const double rtol = dtype == graphjit::float64 ? 1e-10 : 1e-5;
  for (std::size_t o = 0; o < want.size(); ++o) {
    std::string diff = difference(got[o], want[o], rtol);
    if (diff.empty()) continue;
    fail(o == 0 ? "the output differs: " + diff
                : fmt::format("the gradient w.r.t. {} differs: {}", inputs[o - 1].name(), diff));
    outcome.report += "\ncompiled graph:\n" + graphjit::debugprint(*fast);
    return outcome;
  }
  return outcome;
}

}  // namespace

TEST_CASE("random graphs: the compiled modes equal the reference evaluator, outputs and gradients") {
  std::vector<std::uint64_t> seeds;
  if (const char* only = std::getenv("GRAPHJIT_RANDOM_GRAPH_SEED"); only && *only) {
    seeds.push_back(std::strtoull(only, nullptr, 10));
  } else {
    const char* count = std::getenv("GRAPHJIT_RANDOM_GRAPHS");
    const int n = count && *count ? std::atoi(count) : kGraphs;
    for (int i = 0; i < n; ++i) seeds.push_back(kFirstSeed + static_cast<std::uint64_t>(i));
  }
  int failures = 0;
  for (std::uint64_t seed : seeds) {
    const Outcome outcome = run_one(seed);
    if (outcome.ok) continue;
    ++failures;
    FAIL_CHECK(outcome.report);
  }
  CHECK(failures == 0);
}

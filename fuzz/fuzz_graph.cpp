// libFuzzer target: the input bytes are decoded into a random graph (inputs of
// every dtype and rank, zero-size and overflow-prone dims, stride-0 and
// negative-stride arguments, values such as nan, inf, INT64_MIN and -1), which
// is run compiled (Mode::fast_run: rewrites, fused LLVM kernels, views, memory
// planning) and by the reference evaluator. Both must give the same dtype,
// shape and values, or throw exceptions of the same type; anything else
// aborts with both sides printed. docs/reliability.md says how to run it.
#include "fuzz_bytes.hpp"

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::DType;
using graphjit::Shape;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::constant;
using graphjit::int64;
using graphjit::fuzz::Bytes;

namespace {

constexpr DType kDTypes[] = {graphjit::float64, graphjit::float32, graphjit::int64, graphjit::int32,
                             graphjit::int8,    graphjit::uint8,   graphjit::bool_};
constexpr std::int64_t kDims[] = {1, 2, 3, 0, 5, 1, 17, 4};
constexpr double kValues[] = {0.0, 1.0, -1.0, 2.0, -3.0, 0.5, 7.0, -0.0, 1e-3, 100.0,
                              NAN, INFINITY, -INFINITY, 1e300, -2.5, 3.0};
constexpr std::int64_t kIntValues[] = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                                       -1, 0, 2147483647, -2147483648LL, 255, -128};
// Reshape targets: -1, small dims, and products that overflow int64
// (3 * 6148914691236517206 wraps to 2).
constexpr std::int64_t kReshapeDims[] = {-1, 1, 2, 3, 0, 6148914691236517206LL, 4294967296LL, 6};

// An argument for `input`: a fresh tensor of its dtype, filled from the value
// tables, sometimes passed as a stride-0 or reversed view.
Tensor make_argument(Bytes& in, const Variable& input, const Shape& shape) {
  const DType dtype = input.dtype();
  Shape base = shape;
  const int view = in.below(4);  // 0,1: plain; 2: stride-0 along axis 0; 3: reversed along axis 0
  if (view == 2 && !base.empty()) base[0] = 1;
  Tensor t = Tensor::empty(base, dtype);
  const bool is_int = !graphjit::is_float(dtype) && dtype != graphjit::bool_;
  std::vector<std::int64_t> index(base.size(), 0);
  for (std::int64_t k = 0; k < t.size(); ++k) {
    std::int64_t rest = k;
    for (int d = static_cast<int>(base.size()) - 1; d >= 0; --d) {
      index[d] = rest % base[d];
      rest /= base[d];
    }
    if (dtype == graphjit::int64 && in.below(4) == 0) {
      t.data<std::int64_t>()[k] = kIntValues[in.below(8)];  // fresh, so contiguous
      continue;
    }
    double v = kValues[in.below(16)];
    if (is_int && !std::isfinite(v)) v = -1;  // nan has no integer; casts of it are the graph's business
    if (is_int && std::abs(v) > 100) v = 100;
    if (dtype == graphjit::uint8 && v < 0) v = 255;
    if (dtype == graphjit::bool_) v = v != 0 && !std::isnan(v);
    if (!is_int && v != std::floor(v) && dtype == graphjit::float32) v = static_cast<float>(v);
    t.set(index, v);
  }
  if (view == 2 && !shape.empty()) return t.broadcast_to(shape);
  if (view == 3 && !shape.empty() && shape[0] > 0) return t.slice(0, shape[0] - 1, -shape[0] - 1, -1);
  return t;
}

class GraphDecoder {
 public:
  explicit GraphDecoder(Bytes& in) : in_(in) {}

  // Inputs and their argument shapes, then a stack program over them.
  void decode() {
    const int n_inputs = 1 + in_.below(3);
    for (int i = 0; i < n_inputs; ++i) {
      const DType dtype = kDTypes[in_.below(7)];
      const int ndim = in_.below(4);
      Shape shape;
      std::vector<bool> bcast;
      for (int d = 0; d < ndim; ++d) {
        shape.push_back(kDims[in_.below(8)]);
        bcast.push_back(shape.back() == 1 && in_.below(2) == 0);
      }
      Variable x = T::tensor(dtype, bcast, "x" + std::to_string(i));
      inputs_.push_back(x);
      shapes_.push_back(shape);
      stack_.push_back(x);
    }
    for (int step = 0; step < 12 && !in_.empty(); ++step) apply(in_.below(40));
  }

  std::vector<Variable> outputs() const {
    std::vector<Variable> out{stack_.back()};
    if (stack_.size() > 1 && stack_[stack_.size() - 2].node() != stack_.back().node()) out.push_back(stack_[stack_.size() - 2]);
    return out;
  }
  const std::vector<Variable>& inputs() const { return inputs_; }
  const std::vector<Shape>& shapes() const { return shapes_; }
  // Whether v's values may differ between the modes by more than rounding.
  bool amplified(const Variable& v) const { return amplified_.count(v.node().get()) > 0; }

 private:
  Variable pop() {
    Variable v = stack_.back();
    if (stack_.size() > 1) stack_.pop_back();
    return v;
  }
  int axis_of(const Variable& x) { return x.ndim() == 0 ? 0 : in_.below(x.ndim()); }

  void apply(int op) {
    Variable a = pop();
    if (op == 24) {  // dup
      stack_.push_back(a);
      stack_.push_back(a);
      return;
    }
    if (op < 24) {
      push(unary(op, a), {a});
      return;
    }
    Variable b = pop();
    if (op > 38) {  // swap
      stack_.push_back(b);
      stack_.push_back(a);
      return;
    }
    push(binary(op, a, b), {a, b});
  }

  // How an op's compiled value may differ from the reference's. Math
  // functions (graphjit's vectorized ones against libm), sums, products and
  // dot (summation order) may round differently, within compare()'s
  // tolerance. + - * / and sqrt round correctly in both modes (canonicalize
  // keeps them bit-identical, and nothing contracts them into fused
  // multiply-adds): they only pass on their operands' differences. An op
  // that is discontinuous in its operands (a comparison, a cast to an
  // integer, mod, floor division, sgn, argmax, pow of a negative base) turns
  // such a difference into any difference at all: expm1 applied four times
  // to 1 is 5.03e41, whose mod 255 is 10, 74 or 201 from one ulp to the next.
  enum Trait : unsigned { kExact = 0, kRounds = 1, kDiscontinuous = 2 };
  struct Built {
    Variable value;
    unsigned traits;
  };

  Built unary(int op, const Variable& a) {
    using namespace T;
    switch (op) {
      case 0: return {neg(a), kExact};
      case 1: return {abs(a), kExact};
      case 2: return {exp(a), kRounds};
      case 3: return {log(a), kRounds};
      case 4: return {sqrt(a), kExact};
      case 5: return {tanh(a), kRounds};
      case 6: return {sigmoid(a), kRounds};
      case 7: return {softplus(a), kRounds};
      case 8: {
        const Variable c = cast(a, kDTypes[in_.below(7)]);
        return {c, graphjit::is_float(c.dtype()) ? kExact : kDiscontinuous};
      }
      case 9: return {sum(a, axis_list(a), in_.below(2) == 1), kRounds};
      case 10: return {prod(a, axis_list(a)), kRounds};
      case 11: return {max(a, axis_list(a)), kExact};
      case 12: return {min(a, axis_list(a)), kExact};
      case 13: return {argmax(a, a.ndim() ? std::optional<int>(axis_of(a)) : std::nullopt), kDiscontinuous};
      case 14: return {mean(a, axis_list(a)), kRounds};
      case 15: return {transpose(a), kExact};
      case 16: return {flatten(a), kExact};
      case 17: return {reshape_of(a), kExact};
      case 18: return {subtensor_of(a), kExact};
      case 19: return {softmax(a), kRounds};
      case 20: return {sgn(a), kDiscontinuous};
      case 21: return {expm1(a), kRounds};
      case 22: return {log1p(a), kRounds};
      default: return {relu(a), kExact};
    }
  }

  Built binary(int op, const Variable& a, const Variable& b) {
    using namespace T;
    switch (op) {
      case 25: return {add(a, b), kExact};
      case 26: return {sub(a, b), kExact};
      case 27: return {mul(a, b), kExact};
      case 28: return {true_div(a, b), kExact};
      case 29: return {int_div(a, b), kDiscontinuous};
      case 30: return {mod(a, b), kDiscontinuous};
      case 31: return {pow(a, b), kRounds | kDiscontinuous};
      case 32: return {maximum(a, b), kExact};
      case 33: return {minimum(a, b), kExact};
      case 34: return {lt(a, b), kDiscontinuous};
      case 35: return {eq(a, b), kDiscontinuous};
      case 36: return {dot(a, b), kRounds};
      case 37: return {switch_(gt(a, b), a, b), kExact};  // the larger of a and b: continuous
      default: return {concatenate({a, b}, axis_of(a)), kExact};
    }
  }

  // Pushes a result, tracking whether its float values may round differently
  // between the modes (inexact_) and whether a difference may have grown past
  // any tolerance (amplified_): those values are not compared.
  void push(const Built& built, std::initializer_list<Variable> operands) {
    bool inexact = false, amplified = false;
    for (const Variable& v : operands) {
      inexact = inexact || inexact_.count(v.node().get());
      amplified = amplified || amplified_.count(v.node().get());
    }
    const void* node = built.value.node().get();
    if (amplified || (inexact && (built.traits & kDiscontinuous))) amplified_.insert(node);
    if (graphjit::is_float(built.value.dtype()) && (inexact || (built.traits & kRounds))) inexact_.insert(node);
    stack_.push_back(built.value);
  }

  T::Axes axis_list(const Variable& x) {
    if (x.ndim() == 0 || in_.below(2) == 0) return std::nullopt;
    return std::vector<int>{axis_of(x)};
  }

  // Not of a reshape: reshape_of_reshape (Theano's local_reshape_chain)
  // drops the inner reshape, and with it the inner reshape's error when its
  // target does not fit, which the reference raises.
  Variable reshape_of(const Variable& x) {
    if (reshapes_.count(x.node().get())) return x;
    const int ndim = 1 + in_.below(3);
    std::vector<Variable> dims;
    for (int d = 0; d < ndim; ++d) dims.push_back(constant(kReshapeDims[in_.below(8)], int64));
    Variable r = T::reshape(x, dims);
    reshapes_.insert(r.node().get());
    return r;
  }

  Variable subtensor_of(const Variable& x) {
    if (x.ndim() == 0) return x;
    const std::int64_t bounds[] = {0, 1, -1, 2, -3, 5, 100, std::numeric_limits<std::int64_t>::min()};
    if (in_.below(2) == 0) return T::subtensor(x, {graphjit::Index(bounds[in_.below(8)])});
    const std::int64_t steps[] = {1, 2, -1, -2};
    const std::int64_t start = bounds[in_.below(8)], stop = bounds[in_.below(8)], step = steps[in_.below(4)];
    return T::subtensor(x, {T::slice(constant(start, int64), constant(stop, int64), constant(step, int64))});
  }

  Bytes& in_;
  std::vector<Variable> inputs_;
  std::vector<Shape> shapes_;
  std::vector<Variable> stack_;
  std::set<const void*> reshapes_;
  std::set<const void*> inexact_, amplified_;
};

// The arguments of the case being run, printed with a mismatch.
std::vector<Tensor> current_args;

[[noreturn]] void mismatch(const std::string& what, const GraphDecoder& graph) {
  std::fprintf(stderr, "fuzz_graph: fast_run and reference disagree: %s\ngraph:\n%s\n", what.c_str(),
               graphjit::debugprint(graph.outputs()).c_str());
  for (std::size_t i = 0; i < current_args.size(); ++i)
    std::fprintf(stderr, "argument %zu: %s %s strides %s\n%s\n", i, graphjit::dtype_name(current_args[i].dtype()),
                 graphjit::shape_str(current_args[i].shape()).c_str(),
                 graphjit::shape_str(current_args[i].strides()).c_str(), current_args[i].to_string().c_str());
  std::abort();
}

// Same dtype, shape and values (nan where nan; floats to a tolerance that
// allows for a different order of summation and vectorized math functions).
// The values only when the graph cannot have amplified rounding differences
// (GraphDecoder::Trait).
void compare(const Tensor& want, const Tensor& got, const GraphDecoder& graph, bool values_comparable) {
  if (want.dtype() != got.dtype() || want.shape() != got.shape())
    mismatch("dtype/shape " + std::string(graphjit::dtype_name(got.dtype())) + graphjit::shape_str(got.shape()) +
                 " vs reference " + graphjit::dtype_name(want.dtype()) + graphjit::shape_str(want.shape()),
             graph);
  if (!values_comparable) return;
  if (!graphjit::is_float(want.dtype())) {
    if (!want.equal(got)) mismatch("values\n" + got.to_string() + "\nvs reference\n" + want.to_string(), graph);
    return;
  }
  const double rtol = want.dtype() == graphjit::float32 ? 1e-3 : 1e-9;
  const std::vector<double> w = want.to_vector<double>(), g = got.to_vector<double>();
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (std::isnan(w[i]) && std::isnan(g[i])) continue;
    if (w[i] == g[i]) continue;
    if (std::isfinite(w[i]) && std::isfinite(g[i]) && std::abs(w[i] - g[i]) <= rtol * std::max({1.0, std::abs(w[i]), std::abs(g[i])}))
      continue;
    mismatch("element " + std::to_string(i) + ": " + std::to_string(g[i]) + " vs reference " + std::to_string(w[i]) +
                 "\n" + got.to_string() + "\nvs reference\n" + want.to_string(),
             graph);
  }
}

struct Outcome {
  std::vector<Tensor> values;
  std::optional<std::string> error_type;
  std::string error;
};

// fast_run without the stabilize pass: its rules (exp(log(x)) -> x,
// log(sigmoid(x)) -> -softplus(-x), ...) change values on purpose where the
// written form overflows or is nan (tests/test_passes_stabilize.cpp).
Outcome run(const GraphDecoder& graph, graphjit::Mode mode, const std::vector<graphjit::Argument>& args) {
  Outcome o;
  try {
    o.values = graphjit::function(graph.inputs(), graph.outputs(), {.mode = mode, .excluded_passes = {"stabilize"}})
                   .call(args);
  } catch (const std::exception& e) {
    o.error_type = typeid(e).name();
    o.error = e.what();
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  GraphDecoder graph(in);
  try {
    graph.decode();
  } catch (const std::exception&) {
    return 0;  // a graph the builders refuse (types, ranks, axes): their errors are tested elsewhere
  }
  std::vector<graphjit::Argument> args;
  current_args.clear();
  for (std::size_t i = 0; i < graph.inputs().size(); ++i) {
    current_args.push_back(make_argument(in, graph.inputs()[i], graph.shapes()[i]));
    args.push_back(current_args.back());
  }
  const Outcome want = run(graph, graphjit::Mode::reference, args);
  const Outcome got = run(graph, graphjit::Mode::fast_run, args);
  if (want.error_type != got.error_type)
    mismatch("reference " + (want.error_type ? "threw " + *want.error_type + ": " + want.error : "returned") +
                 "; fast_run " + (got.error_type ? "threw " + *got.error_type + ": " + got.error : "returned"),
             graph);
  for (std::size_t o = 0; o < want.values.size(); ++o)
    compare(want.values[o], got.values[o], graph, !graph.amplified(graph.outputs()[o]));
  return 0;
}

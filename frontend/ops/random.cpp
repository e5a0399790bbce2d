// Random draws (RandomStreams, frontend/random_streams.cpp): uniform, normal,
// binomial, integers, permutation. Each reads a stream state, an int64 vector
// [key, counter], and computes element i from the Philox block of
// (key, counter + i) (philox.hpp). A draw is a pure function of its inputs, so
// the rewrites may treat it like any op; the stream's default update advances
// the counter by the number of blocks the draw used, so the next call, or
// another function drawing from the same state, gets new numbers.
//
// The reference kernels compute one block per element with the plain Philox;
// the native kernels compute kLanes blocks at a time and split the elements
// over the thread pool. Both feed the same transforms below.
#include "frontend/ops/op_support.hpp"
#include "frontend/ops/philox.hpp"

#include "compiler/exec/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numbers>

namespace graphjit::ir {

namespace {

using philox::Words;

constexpr std::size_t kFirstDim = 3;  // inputs: state, two parameters, then the dims

// --- From four words to a value -------------------------------------------------

double unit_53(std::uint32_t lo, std::uint32_t hi) {  // [0, 1) with 53 random bits
  return static_cast<double>(((static_cast<std::uint64_t>(hi) << 32) | lo) >> 11) * 0x1.0p-53;
}

struct Params {
  double a = 0, b = 0;           // low/high, mean/std, -/p
  std::int64_t ia = 0, ib = 0;   // integers' low/high, binomial's n
};

double uniform_value(const Words& w, const Params& p, DType dtype) {
  // float32 draws take 24 bits, so low + (high - low) * u never rounds up to high for [0, 1).
  const double u = dtype == float32 ? static_cast<double>(w[0] >> 8) * 0x1.0p-24 : unit_53(w[0], w[1]);
  return p.a + (p.b - p.a) * u;
}

// Box-Muller on two uniforms; u1 in (0, 1] so its log is finite.
double normal_value(const Words& w, const Params& p) {
  const double u1 = 1.0 - unit_53(w[0], w[1]);
  const double u2 = unit_53(w[2], w[3]);
  return p.a + p.b * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// Inversion: walks the CDF of Binomial(n, q) with q = min(p, 1 - p) from 0
// (its first term (1-q)^n is checked not to underflow when the draw starts).
std::int64_t binomial_value(const Words& w, const Params& p) {
  const std::int64_t n = p.ia;
  const bool flip = p.b > 0.5;
  const double q = flip ? 1.0 - p.b : p.b;
  if (q == 0) return flip ? n : 0;
  const double u = unit_53(w[0], w[1]);
  double term = std::pow(1.0 - q, static_cast<double>(n)), cdf = term;
  std::int64_t k = 0;
  while (u >= cdf && k < n) {
    term *= static_cast<double>(n - k) / static_cast<double>(k + 1) * (q / (1.0 - q));
    ++k;
    cdf += term;
  }
  return flip ? n - k : k;
}

// [low, high) by multiply-shift of 64 random bits (bias below range / 2^64).
std::int64_t integer_value(const Words& w, const Params& p) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(w[1]) << 32) | w[0];
  const std::uint64_t range = static_cast<std::uint64_t>(p.ib) - static_cast<std::uint64_t>(p.ia);
  const auto offset = static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits) * range) >> 64);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(p.ia) + offset);
}

template <class T> T draw_value(OpCode op, const Words& w, const Params& p, DType dtype) {
  switch (op) {
    case OpCode::RandomUniform: return value_cast<T>(uniform_value(w, p, dtype));
    case OpCode::RandomNormal: return value_cast<T>(normal_value(w, p));
    case OpCode::RandomBinomial: return value_cast<T>(binomial_value(w, p));
    default: return value_cast<T>(integer_value(w, p));
  }
}

// --- Types, shapes, parameters ---------------------------------------------------

void require_state(const Node& node) {
  const Type& s = node.inputs[0]->type;
  if (s.dtype != int64 || s.ndim() != 1)
    ops::type_error(node, fmt::format("input 0 ('{}') must be a random stream state (an int64 vector [key, counter]), "
                                      "got {}", node.inputs[0]->label(), s.str()));
}

void require_scalar(const Node& node, std::size_t i, const char* role, bool integer) {
  const Type& t = node.inputs[i]->type;
  if (t.ndim() != 0 || (integer && (!is_integer(t.dtype) || t.dtype == bool_)))
    ops::type_error(node, fmt::format("input {} ('{}', {}) is {}, which must be {} scalar", i, node.inputs[i]->label(),
                                      t.str(), role, integer ? "an integer" : "a"));
}

Type draw_type(const Node& node) {
  if (node.inputs.size() < kFirstDim) ops::type_error(node, "needs a state, two parameters and the dims");
  require_state(node);
  const bool int_params = node.op == OpCode::RandomIntegers;
  require_scalar(node, 1, "the first parameter", int_params || node.op == OpCode::RandomBinomial);
  require_scalar(node, 2, "the second parameter", int_params);
  std::vector<bool> bcast;
  for (std::size_t i = kFirstDim; i < node.inputs.size(); ++i) {
    require_scalar(node, i, "a length of the drawn shape", true);
    const NodeRef& d = node.inputs[i];
    bcast.push_back(d->op == OpCode::Constant && d->value.item<std::int64_t>() == 1);
  }
  return Type{node.attrs.dtype, bcast};
}

Params read_params(const std::vector<Tensor>& inputs) {
  return {inputs[1].item<double>(), inputs[2].item<double>(), inputs[1].item<std::int64_t>(),
          inputs[2].item<std::int64_t>()};
}

// What makes a draw impossible, checked before any number is drawn.
void check_params(const Node& node, const std::vector<Tensor>& inputs, const Params& p) {
  auto fail = [&](const std::string& why) { ops::shape_error(node, inputs, why); };
  if (inputs[0].size() != 2) fail("the stream state must hold two values [key, counter]");
  switch (node.op) {
    case OpCode::RandomNormal:
      if (!(p.b >= 0)) fail(fmt::format("normal: std must be >= 0, got {}", p.b));
      break;
    case OpCode::RandomBinomial:
      if (p.ia < 0) fail(fmt::format("binomial: n must be >= 0, got {}", p.ia));
      if (!(p.b >= 0 && p.b <= 1)) fail(fmt::format("binomial: p must be in [0, 1], got {}", p.b));
      if (std::pow(1.0 - std::min(p.b, 1.0 - p.b), static_cast<double>(p.ia)) == 0)
        fail(fmt::format("binomial: n = {} with p = {} is beyond the inversion sampler (min(p,1-p)^n underflows)",
                         p.ia, p.b));
      break;
    case OpCode::RandomIntegers:
      if (p.ib <= p.ia) fail(fmt::format("integers: high ({}) must be greater than low ({})", p.ib, p.ia));
      break;
    default: break;
  }
}

Shape draw_shape(const Node& node, const std::vector<Tensor>& inputs) {
  Shape shape;
  for (std::size_t i = kFirstDim; i < inputs.size(); ++i) {
    shape.push_back(inputs[i].item<std::int64_t>());
    if (shape.back() < 0) ops::shape_error(node, inputs, fmt::format("cannot draw the negative shape {}", shape_str(shape)));
  }
  try {
    shape_numel(shape);
  } catch (const std::overflow_error&) {
    ops::shape_error(node, inputs, fmt::format("the shape {} has more elements than an int64 can count", shape_str(shape)));
  }
  return shape;
}

struct StreamPosition {
  std::uint32_t k0, k1;
  std::uint64_t counter;
};

StreamPosition read_state(const Tensor& state) {
  const auto key = static_cast<std::uint64_t>(state.at<std::int64_t>({0}));
  return {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32),
          static_cast<std::uint64_t>(state.at<std::int64_t>({1}))};
}

// --- Kernels ---------------------------------------------------------------------

Tensor draw_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Params p = read_params(inputs);
  check_params(node, inputs, p);
  Tensor out = Tensor::empty(draw_shape(node, inputs), node.type.dtype);
  const StreamPosition at = read_state(inputs[0]);
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* data = out.data<T>();
    for (std::int64_t i = 0; i < out.size(); ++i) {
      const Words w = philox::philox_reference(philox::counter_words(at.counter, static_cast<std::uint64_t>(i)), at.k0, at.k1);
      data[i] = draw_value<T>(node.op, w, p, node.type.dtype);
    }
  });
  return out;
}

// Elements [begin, end) of a draw, kLanes blocks at a time.
template <class T>
void draw_range(const Node& node, const StreamPosition& at, const Params& p, T* data, std::int64_t begin, std::int64_t end) {
  std::uint32_t words[4][philox::kLanes];
  for (std::int64_t first = begin; first < end; first += philox::kLanes) {
    philox::philox_lanes(at.counter, static_cast<std::uint64_t>(first), at.k0, at.k1, words);
    const std::int64_t lanes = std::min<std::int64_t>(philox::kLanes, end - first);
    for (std::int64_t l = 0; l < lanes; ++l) {
      const Words w{words[0][l], words[1][l], words[2][l], words[3][l]};
      data[first + l] = draw_value<T>(node.op, w, p, node.type.dtype);
    }
  }
}

// Pieces start at multiples of kLanes; which thread runs a piece changes nothing.
Tensor draw_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Params p = read_params(inputs);
  check_params(node, inputs, p);
  Tensor out = memory.get(draw_shape(node, inputs), node.type.dtype);
  const StreamPosition at = read_state(inputs[0]);
  const std::int64_t n = out.size();
  constexpr std::int64_t kMinPiece = 1 << 14;
  exec::ThreadPool& pool = exec::ThreadPool::global();
  const int pieces = static_cast<int>(std::clamp<std::int64_t>(n / kMinPiece, 1, pool.concurrency()));
  const std::int64_t per_piece = (n / pieces + philox::kLanes - 1) / philox::kLanes * philox::kLanes;
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* data = out.data<T>();
    pool.run(pieces, [&](int k) {
      const std::int64_t begin = std::min(n, per_piece * k), end = k + 1 == pieces ? n : std::min(n, per_piece * (k + 1));
      draw_range<T>(node, at, p, data, begin, end);
    });
  });
  return out;
}

// --- Permutation: Fisher-Yates, step i swapping with a position drawn from block i ---

Type permutation_type(const Node& node) {
  require_state(node);
  require_scalar(node, 1, "the length of the permutation", true);
  return Type{int64, {false}};
}

Shape permutation_shape(const Node& node, const std::vector<Tensor>& inputs) {
  const auto n = inputs[1].item<std::int64_t>();
  if (n < 0) ops::shape_error(node, inputs, fmt::format("permutation: n must be >= 0, got {}", n));
  if (inputs[0].size() != 2) ops::shape_error(node, inputs, "the stream state must hold two values [key, counter]");
  return {n};
}

// Swaps position i (from n-1 down to 1) with a position in [0, i] drawn from block i.
template <class Blocks> Tensor shuffle(const Shape& shape, Tensor out, Blocks&& block) {
  auto* v = out.data<std::int64_t>();
  const std::int64_t n = shape[0];
  for (std::int64_t i = 0; i < n; ++i) v[i] = i;
  for (std::int64_t i = n - 1; i > 0; --i) {
    const std::int64_t j = integer_value(block(i), {0, 0, 0, i + 1});
    std::swap(v[i], v[j]);
  }
  return out;
}

Tensor permutation_reference(const Node& node, const std::vector<Tensor>& inputs) {
  const Shape shape = permutation_shape(node, inputs);
  const StreamPosition at = read_state(inputs[0]);
  return shuffle(shape, Tensor::empty(shape, int64), [&](std::int64_t i) {
    return philox::philox_reference(philox::counter_words(at.counter, static_cast<std::uint64_t>(i)), at.k0, at.k1);
  });
}

Tensor permutation_native(const Node& node, const std::vector<Tensor>& inputs, OutputMemory& memory) {
  const Shape shape = permutation_shape(node, inputs);
  const StreamPosition at = read_state(inputs[0]);
  std::uint32_t words[4][philox::kLanes];
  std::int64_t cached = -1;  // the first block in `words`
  return shuffle(shape, memory.get(shape, int64), [&](std::int64_t i) {
    const std::int64_t first = i / philox::kLanes * philox::kLanes;
    if (first != cached) philox::philox_lanes(at.counter, static_cast<std::uint64_t>(first), at.k0, at.k1, words);
    cached = first;
    const std::int64_t l = i - first;
    return Words{words[0][l], words[1][l], words[2][l], words[3][l]};
  });
}

}  // namespace

void register_random_ops() {
  for (OpCode op : {OpCode::RandomUniform, OpCode::RandomNormal, OpCode::RandomBinomial, OpCode::RandomIntegers})
    define_op(op, {draw_type, draw_shape, draw_reference, nullptr, NativeKernel(draw_native)});
  define_op(OpCode::RandomPermutation,
            {permutation_type, permutation_shape, permutation_reference, nullptr, NativeKernel(permutation_native)});
}

}  // namespace graphjit::ir

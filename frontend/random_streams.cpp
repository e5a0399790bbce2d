// RandomStreams: each draw gets a state shared variable [key, counter] with a
// default update advancing the counter (graphjit/random_streams.hpp). The
// draws themselves are ops (frontend/ops/random.cpp).
#include <graphjit/errors.hpp>
#include <graphjit/random_streams.hpp>
#include <graphjit/tensor.hpp>

#include "compiler/ir/node.hpp"
#include "frontend/ops/op_support.hpp"

#include <fmt/format.h>
#include <mutex>
#include <unordered_map>

namespace graphjit {

// --- Default updates ----------------------------------------------------------------

namespace {

// Entries keep their state alive (the update's graph holds it), so a key is
// never a dangling address.
struct DefaultUpdates {
  std::mutex mutex;
  std::unordered_map<const SharedState*, Variable> values;
};

DefaultUpdates& default_updates() {
  static DefaultUpdates registry;
  return registry;
}

}  // namespace

void set_default_update(const SharedVariable& target, const Variable& value) {
  if (!target.defined() || !target.state()) throw FunctionError("set_default_update: the target is not a shared variable");
  if (!value.defined())
    throw FunctionError(fmt::format("set_default_update: the update of '{}' is an undefined Variable", target.label()));
  if (value.dtype() != target.dtype() || value.ndim() != target.ndim())
    throw FunctionError(fmt::format("set_default_update: shared variable '{}' has type {} but its update '{}' has type {}",
                                    target.label(), target.type_str(), value.label(), value.type_str()));
  DefaultUpdates& r = default_updates();
  const std::lock_guard lock(r.mutex);
  r.values.insert_or_assign(target.state().get(), value);
}

std::optional<Variable> default_update(const SharedState* target) {
  DefaultUpdates& r = default_updates();
  const std::lock_guard lock(r.mutex);
  if (auto it = r.values.find(target); it != r.values.end()) return it->second;
  return std::nullopt;
}

// --- Shapes -------------------------------------------------------------------------

DrawShape::DrawShape(std::initializer_list<Operand> dims) {
  for (const Operand& d : dims) dims_.push_back(d.var.defined() ? d.var : operand_constant(d, int64));
}

DrawShape::DrawShape(const std::vector<std::int64_t>& dims) {
  for (std::int64_t d : dims) dims_.push_back(constant(d, int64));
}

DrawShape::DrawShape(const Variable& shape_vector) {
  if (!shape_vector.defined()) throw TypeError("RandomStreams: the shape is an undefined Variable");
  const ir::Node& n = *shape_vector.node();
  if (n.op == ir::OpCode::ShapeOf) {
    const Variable of(n.inputs[0]);
    for (int d = 0; d < of.ndim(); ++d) dims_.push_back(of.shape(d));
    return;
  }
  if (n.op == ir::OpCode::Constant && n.value.ndim() == 1) {
    for (std::int64_t d : n.value.to_vector<std::int64_t>()) dims_.push_back(constant(d, int64));
    return;
  }
  throw TypeError(fmt::format("RandomStreams: the shape '{}' ({}) has no length known before run time; pass x.shape(), "
                              "a list of numbers or a list of integer scalars",
                              shape_vector.label(), shape_vector.type_str()));
}

// --- Streams --------------------------------------------------------------------------

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Draw i of the stream seeded with `seed` starts at counter 0 of its own key.
Tensor initial_state(std::uint64_t seed, std::size_t draw) {
  const std::uint64_t key = splitmix64(splitmix64(seed) + draw);
  return Tensor::from_vector<std::int64_t>({static_cast<std::int64_t>(key), 0}, {2});
}

Variable product(const std::vector<Variable>& dims) {
  Variable n = constant(1, int64);
  for (const Variable& d : dims) n = n * tensor::cast(d, int64);
  return n;
}

Variable number_or(const Operand& o, DType dtype) { return o.var.defined() ? o.var : operand_constant(o, dtype); }

}  // namespace

struct RandomStreams::Impl {
  std::mutex mutex;
  std::uint64_t seed;
  std::vector<std::pair<SharedVariable, Variable>> draws;  // (state, default update)
};

RandomStreams::RandomStreams(std::uint64_t seed) : impl_(std::make_shared<Impl>()) { impl_->seed = seed; }

SharedVariable RandomStreams::new_state(SL where) const {
  const std::lock_guard lock(impl_->mutex);
  const std::size_t i = impl_->draws.size();
  SharedVariable state = shared(initial_state(impl_->seed, i), fmt::format("rng_state_{}", i), false, where);
  impl_->draws.emplace_back(state, Variable());
  return state;
}

Variable RandomStreams::draw(ir::OpCode op, const DrawShape& shape, const Variable& a, const Variable& b, DType dtype,
                             SL where) {
  const SharedVariable state = new_state(where);
  std::vector<Variable> inputs{state, a, b};
  for (const Variable& d : shape.dims()) inputs.push_back(d);
  ir::Attrs attrs;
  attrs.dtype = dtype;
  Variable value = ops::apply(op, inputs, std::move(attrs), where);
  advance(state, product(shape.dims()));
  return value;
}

// The state's default update: past the `blocks` Philox blocks the draw uses.
void RandomStreams::advance(const SharedVariable& state, const Variable& blocks) {
  const Variable advanced = state + tensor::stack({constant(0, int64), tensor::cast(blocks, int64)});
  set_default_update(state, advanced);
  const std::lock_guard lock(impl_->mutex);
  for (auto& [s, update] : impl_->draws)
    if (s.state() == state.state()) update = advanced;
}

Variable RandomStreams::uniform(const DrawShape& shape, const Operand& low, const Operand& high, DType dtype, SL where) {
  return draw(ir::OpCode::RandomUniform, shape, number_or(low, float64), number_or(high, float64), dtype, where);
}

Variable RandomStreams::normal(const DrawShape& shape, const Operand& mean, const Operand& std, DType dtype, SL where) {
  return draw(ir::OpCode::RandomNormal, shape, number_or(mean, float64), number_or(std, float64), dtype, where);
}

Variable RandomStreams::binomial(const DrawShape& shape, const Operand& n, const Operand& p, DType dtype, SL where) {
  return draw(ir::OpCode::RandomBinomial, shape, number_or(n, int64), number_or(p, float64), dtype, where);
}

Variable RandomStreams::integers(const DrawShape& shape, const Operand& low, const Operand& high, DType dtype, SL where) {
  return draw(ir::OpCode::RandomIntegers, shape, number_or(low, int64), number_or(high, int64), dtype, where);
}

Variable RandomStreams::permutation(const Operand& n, SL where) {
  const SharedVariable state = new_state(where);
  const Variable length = number_or(n, int64);
  Variable value = ops::apply(ir::OpCode::RandomPermutation, {state, length}, {}, where);
  advance(state, length);
  return value;
}

Variable RandomStreams::choice(const DrawShape& shape, const Variable& a, bool replace, const Variable& p, SL where) {
  if (!a.defined() || a.ndim() != 1)
    throw TypeError(fmt::format("choice at {}: a must be a vector", ops::where_str(where)));
  const Variable k = a.shape(0, where);
  const Variable count = product(shape.dims());
  Variable positions;
  if (!replace) {
    if (p.defined())
      throw TypeError(fmt::format("choice at {}: p with replace=false is not supported", ops::where_str(where)));
    positions = tensor::subtensor(permutation(k, where), {tensor::slice(constant(0, int64), count)}, where);
  } else if (!p.defined()) {
    positions = integers({count}, constant(0, int64), k, int64, where);
  } else {
    // Inversion: the number of CDF values at or below u, computed as u >= cumsum(p).
    const Variable steps = tensor::arange(k, where);
    const Variable upper = tensor::cast(tensor::le(steps.dimshuffle({0, -1}), steps.dimshuffle({-1, 0})), p.dtype());
    const Variable cdf = tensor::dot(p, upper, where);
    const Variable u = uniform({count}, 0.0, 1.0, p.dtype(), where);
    const Variable below = tensor::sum(tensor::cast(tensor::ge(u.dimshuffle({0, -1}), cdf.dimshuffle({-1, 0})), int64), std::vector<int>{1});
    positions = tensor::minimum(below, k - 1);
  }
  return tensor::reshape(a[positions], shape.dims(), where);
}

void RandomStreams::seed(std::uint64_t s) {
  const std::lock_guard lock(impl_->mutex);
  impl_->seed = s;
  for (std::size_t i = 0; i < impl_->draws.size(); ++i) impl_->draws[i].first.set_value(initial_state(s, i));
}

// Each state's current default update: a draw inside a scan step is advanced
// by the scan's final state (frontend/scan.cpp), not by its per-step update.
std::vector<std::pair<SharedVariable, Variable>> RandomStreams::updates() const {
  std::vector<std::pair<SharedVariable, Variable>> draws;
  {
    const std::lock_guard lock(impl_->mutex);
    draws = impl_->draws;
  }
  for (auto& [state, update] : draws)
    if (std::optional<Variable> current = default_update(state.state().get())) update = *current;
  return draws;
}

Variable tensor::nnet::dropout(const Variable& x, double p, RandomStreams& rng, std::source_location where) {
  if (!x.defined()) throw TypeError(fmt::format("dropout at {}: x is an undefined Variable", ops::where_str(where)));
  if (!(p >= 0 && p < 1))
    throw TypeError(fmt::format("dropout at {}: p (the probability of dropping) must be in [0, 1), got {}",
                                ops::where_str(where), p));
  if (!is_float(x.dtype()))
    throw TypeError(fmt::format("dropout at {}: x ('{}') must be a float tensor, got {}", ops::where_str(where), x.label(),
                                x.type_str()));
  if (p == 0) return x;
  const Variable mask = rng.binomial(x.shape(where), 1, 1.0 - p, x.dtype(), where);
  return x * mask * constant(1.0 / (1.0 - p), x.dtype(), where);
}

}  // namespace graphjit

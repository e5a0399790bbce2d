// The gradient of scan: backpropagation through time, as another scan that
// runs the steps backwards (Theano's approach). For a step
//   out_t = f(x_t at the sequences' taps, earlier outputs at the states' taps, non-sequences)
// the backward step at t takes the cotangent of out_t (the output's gradient
// at t plus what later steps sent back through their taps), applies f's
// vector-Jacobian product (built by grad() on the body), and
//   - emits the sequences' gradients at t (stacked, then placed at their rows),
//   - sends the states' gradients back: a recurrent output with lags L keeps
//     L pending sums W_0..W_{L-1} (rows t .. t+L-1 of its history), shifted
//     by one row per step; after step 0 they are the initial state's gradient,
//   - adds the non-sequences' gradients into accumulators.
// The step's stored outputs stand in for the body's output nodes, so the
// backward body does not recompute them (tanh's gradient reads tanh's output).
// truncate_gradient = k runs the backward loop over the last k steps only.
#include "frontend/ops/op_support.hpp"
#include "frontend/ops/scan_step_sums.hpp"

#include "compiler/ir/graph.hpp"
#include "compiler/ir/scan_body.hpp"

#include <graphjit/grad.hpp>
#include <graphjit/tensor.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <unordered_map>
#include <unordered_set>

namespace graphjit::ir {

namespace {

namespace T = tensor;

Variable reversed(const Variable& x) {
  return T::subtensor(x, {Slice(std::nullopt, std::nullopt, constant(std::int64_t{-1}, int64))});
}
Variable rows(const Variable& x, const Variable& start, const Variable& stop) { return T::subtensor(x, {Slice(start, stop)}); }
Variable last(const Variable& x) { return x[Index(-1)]; }
Variable int64_constant(std::int64_t v) { return constant(v, int64); }

Variable scan_node(const std::vector<Variable>& inputs, const std::shared_ptr<const ScanBody>& body, std::size_t j,
                   std::source_location where) {
  Attrs attrs;
  attrs.ints = {static_cast<std::int64_t>(j)};
  attrs.scan = body;
  return ops::apply(OpCode::Scan, inputs, attrs, where);
}

// The backward loop under construction: its inner inputs (sequences at tap 0,
// states at tap -1, non-sequences) with their outer values, and its outputs.
struct Backward {
  std::shared_ptr<ScanBody> body = std::make_shared<ScanBody>();
  std::vector<Variable> seq_inner, seq_outer, state_inner, state_initial, state_next, non_seq_inner, non_seq_outer;
  std::vector<Variable> emitted;  // non-recurrent outputs
  std::vector<bool> accumulates;  // per forward non-sequence: the step's value depends on it (an accumulator state)
  // Per float sequence tap, in order: whether the loop emits its gradient (a
  // tap the step no longer reads, x_t once x_t W_xh is pushed out, gets
  // zeros after the loop instead of a stored row of zeros per step).
  std::vector<bool> seq_tap_emitted;
  // Per forward non-sequence: its gradient's terms summed after the loop
  // (scan_step_sums.hpp), each factor's stacked source: e >= 0 is emitted[e],
  // -1 - k is sequence k.
  struct Deferred {
    StepSumTerm term;
    std::vector<int> sources;
  };
  std::vector<std::vector<Deferred>> deferred;
  std::vector<Variable> seq_forward;  // each sequence's outer value in forward step order
  void sequence(const Variable& inner, const Variable& forward) {
    seq_inner.push_back(inner);
    seq_outer.push_back(reversed(forward));
    seq_forward.push_back(forward);
  }
  std::size_t state(const Variable& inner, const Variable& initial) {
    state_inner.push_back(inner);
    state_initial.push_back(initial);
    state_next.emplace_back();
    return state_inner.size() - 1;
  }
};

Variable placeholder(const Type& type, const std::string& name, std::source_location where) {
  return Variable(make_input(type, name, where));
}

// The forward history of recurrent output j: its initial rows, then every step's value.
Variable history(const ScanBody& f, std::size_t j, const Variable& initial, const Variable& y) {
  const Variable first = f.outputs[j].plain_initial ? T::dimshuffle(initial, [&] {
    std::vector<std::int64_t> p{-1};
    for (int d = 0; d < initial.ndim(); ++d) p.push_back(d);
    return p;
  }()) : rows(initial, int64_constant(0), int64_constant(f.outputs[j].lags()));
  return T::concatenate({first, y}, 0);
}


// v when g is zeros but for v in its last row (the gradient of y[-1]), else nothing.
Variable last_row_gradient(const Variable& g) {
  if (!g.defined()) return {};
  const Node& n = *g.node();
  if (n.op != OpCode::IncSubtensor || n.attrs.set_instead_of_inc || n.attrs.index.size() != 1 ||
      n.attrs.index[0].kind != IndexEntry::Scalar || n.inputs.size() != 3)
    return {};
  const Node& base = *n.inputs[0];
  const Node& at = *n.inputs[2];
  const bool zeros = base.op == OpCode::Alloc && base.inputs[0]->op == OpCode::Constant &&
                     base.inputs[0]->value.item<double>() == 0;
  const bool last = at.op == OpCode::Constant && at.value.item<std::int64_t>() == -1;
  return zeros && last && n.inputs[1]->type == row_type(n.type) ? Variable(n.inputs[1]) : Variable();
}

// Moves the sum over steps of a non-sequence's gradient g after the loop when
// its terms allow (scan_step_sums.hpp): the factors become stacked sources,
// sequences the loop reads or values it emits (emitting new ones if needed).
bool defer_sum(const Variable& g, const Replacements& stored, Backward& b, std::vector<Backward::Deferred>& out) {
  auto position = [](const std::vector<Variable>& in, const NodeRef& v) {
    auto it = std::find_if(in.begin(), in.end(), [&](const Variable& x) { return x.node() == v; });
    return it == in.end() ? -1 : static_cast<int>(it - in.begin());
  };
  auto as_stored = [&](const NodeRef& v) { auto it = stored.find(v.get()); return it == stored.end() ? v : it->second; };
  auto in_loop = [&](const NodeRef& v) { return position(b.seq_inner, as_stored(v)) >= 0 || position(b.emitted, v) >= 0; };
  const std::optional<std::vector<StepSumTerm>> terms = step_sum_terms(g.node(), in_loop);
  if (!terms) return false;
  std::vector<Backward::Deferred> deferred;
  std::vector<Variable> emitted = b.emitted;
  for (const StepSumTerm& term : *terms) {
    Backward::Deferred d{term, {}};
    for (const NodeRef& factor : term.factors) {
      if (const int k = position(b.seq_inner, as_stored(factor)); k >= 0) {
        d.sources.push_back(-1 - k);
        continue;
      }
      if (factor->op == OpCode::Input) return false;  // a state or a non-sequence: not stacked anywhere
      int e = position(emitted, factor);
      if (e < 0) {
        emitted.push_back(Variable(factor));
        e = static_cast<int>(emitted.size()) - 1;
      }
      d.sources.push_back(e);
    }
    deferred.push_back(std::move(d));
  }
  b.emitted = std::move(emitted);
  out = std::move(deferred);
  return true;
}

// The backward step: cotangents, the step's vector-Jacobian product, the
// pending sums of the states and the accumulators of the non-sequences.
// Returns, per forward inner input, the index of its gradient among the
// backward body's outputs (-1: none), and fills b's states and emitted values.
void backward_step(const ScanBody& f, const std::vector<Variable>& y, const std::vector<Variable>& gy,
                   const std::vector<Variable>& hist, Backward& b, std::source_location where) {
  Replacements stored;
  std::vector<std::size_t> pending(f.outputs.size());  // index of W_{j,0} among b's states
  Variable cost;
  std::size_t state_tap = 0;  // first forward inner input of output j's taps
  for (std::size_t s = 0; s < f.sequences.size(); ++s) state_tap += f.sequences[s].taps.size();
  for (std::size_t j = 0; j < f.outputs.size(); ++j) {
    const Variable out(f.inner_outputs[j]);
    const Type row = row_type(y[j].node()->type);
    Variable c;
    const int lags = f.outputs[j].lags();
    // A state read only at its last step (an RNN's h[-1]) sends its gradient as
    // the backward loop's first pending sum, not as a sequence of zeros.
    const Variable last_grad = lags == 1 ? last_row_gradient(gy[j]) : Variable();
    if (gy[j].defined() && !last_grad.defined()) {
      c = placeholder(row, fmt::format("{}_grad", out.label()), where);
      b.sequence(c, gy[j]);
    }
    if (lags > 0) {
      const Type& state = f.inner_inputs[state_tap]->type;
      pending[j] = b.state_inner.size();
      for (int m = 0; m < lags; ++m)
        b.state(placeholder(state, fmt::format("{}_pending{}", out.label(), m), where),
                last_grad.defined() ? T::cast(last_grad, state.dtype) : T::zeros_like(hist[j][Index(0)]));
      const Variable carried = b.state_inner[pending[j] + static_cast<std::size_t>(lags) - 1];
      c = c.defined() ? c + carried : carried;
      state_tap += f.outputs[j].taps.size();
    }
    if (!c.defined() || !is_float(out.dtype())) continue;
    const Variable term = T::sum(out * c);
    cost = cost.defined() ? cost + term : term;
    if (out.node()->op != OpCode::Input) {
      const Variable value = placeholder(row, fmt::format("{}_stored", out.label()), where);
      b.sequence(value, y[j]);
      stored[out.node().get()] = value.node();
    }
  }
  std::vector<Variable> wrt;
  for (const NodeRef& in : f.inner_inputs)
    if (is_float(in->type.dtype)) wrt.push_back(Variable(in));
  std::unordered_map<const Node*, Variable> vjp;
  if (cost.defined()) {
    const std::vector<Variable> g = grad(cost, wrt, /*allow_disconnected=*/true);
    for (std::size_t k = 0; k < wrt.size(); ++k) vjp[wrt[k].node().get()] = g[k];
  }
  auto grad_of = [&](const NodeRef& in) { auto it = vjp.find(in.get()); return it == vjp.end() ? Variable() : it->second; };
  auto plus = [](const Variable& a, const Variable& c) { return !a.defined() ? c : !c.defined() ? a : a + c; };

  // States: each output's pending sums move one row down and take this step's taps.
  std::size_t tap_input = 0;
  for (std::size_t s = 0; s < f.sequences.size(); ++s) tap_input += f.sequences[s].taps.size();
  for (std::size_t j = 0; j < f.outputs.size(); ++j) {
    const int lags = f.outputs[j].lags();
    for (int m = 0; m < lags; ++m) {
      const std::size_t w = pending[j] + static_cast<std::size_t>(m);
      Variable next = m > 0 ? b.state_inner[w - 1] : Variable();
      const auto& taps = f.outputs[j].taps;
      for (std::size_t k = 0; k < taps.size(); ++k)
        if (taps[k] == m - lags) next = plus(next, grad_of(f.inner_inputs[tap_input + k]));
      b.state_next[w] = next.defined() ? next : T::zeros_like(b.state_inner[w]);
    }
    tap_input += f.outputs[j].taps.size();
  }
  const auto connected = cost.defined() ? ancestors({cost.node()}) : std::unordered_set<const Node*>{};
  std::size_t k = 0;
  for (std::size_t s = 0; s < f.sequences.size(); ++s)
    for (std::size_t t = 0; t < f.sequences[s].taps.size(); ++t, ++k)
      if (is_float(f.inner_inputs[k]->type.dtype)) {
        const Variable g = grad_of(f.inner_inputs[k]);
        b.seq_tap_emitted.push_back(connected.count(f.inner_inputs[k].get()) > 0);
        if (b.seq_tap_emitted.back()) b.emitted.push_back(g.defined() ? g : T::zeros_like(Variable(f.inner_inputs[k])));
      }
  b.accumulates.assign(f.num_non_sequences, false);
  b.deferred.assign(f.num_non_sequences, {});
  for (std::size_t p = 0; p < f.num_non_sequences; ++p) {
    const NodeRef& in = f.inner_inputs[f.inner_inputs.size() - f.num_non_sequences + p];
    // A non-sequence the step no longer reads (W_xh once x_t W_xh is pushed
    // out of the loop) gets zeros, not an accumulator of zeros.
    if (!is_float(in->type.dtype) || !connected.count(in.get())) continue;
    const Variable g = grad_of(in);
    if (g.defined() && defer_sum(g, stored, b, b.deferred[p])) continue;
    b.accumulates[p] = true;
    const Variable acc = placeholder(in->type, fmt::format("{}_grad_sum", in->label()), where);
    b.state(acc, T::zeros_like(b.non_seq_outer[p]));
    b.state_next.back() = g.defined() ? acc + g : acc;
  }
  // The stored outputs stand in for the body's output nodes.
  if (!stored.empty()) {
    std::vector<NodeRef> outs;
    for (const Variable& v : b.state_next) outs.push_back(v.node());
    for (const Variable& v : b.emitted) outs.push_back(v.node());
    outs = clone_replace(outs, stored);
    for (std::size_t q = 0; q < b.state_next.size(); ++q) b.state_next[q] = Variable(outs[q]);
    for (std::size_t q = 0; q < b.emitted.size(); ++q) b.emitted[q] = Variable(outs[b.state_next.size() + q]);
  }
}

// The backward loop's nodes: its states' and emitted values' stacked outputs.
std::vector<Variable> backward_nodes(Backward& b, const Variable& nb, std::source_location where) {
  ScanBody& body = *b.body;
  for (std::size_t s = 0; s < b.seq_inner.size(); ++s) body.sequences.push_back({{0}});
  // Only the states' last values are read (the gradients of the initial
  // states and of the non-sequences): the loop keeps no history of them.
  for (std::size_t q = 0; q < b.state_inner.size(); ++q)
    body.outputs.push_back({.taps = {-1}, .plain_initial = true, .last_only = true});
  for (std::size_t q = 0; q < b.emitted.size(); ++q) body.outputs.push_back({.reversed_rows = true});
  body.num_non_sequences = b.non_seq_inner.size();
  for (const auto* group : {&b.seq_inner, &b.state_inner, &b.non_seq_inner})
    for (const Variable& v : *group) body.inner_inputs.push_back(v.node());
  for (const auto* group : {&b.state_next, &b.emitted})
    for (const Variable& v : *group) body.inner_outputs.push_back(v.node());
  std::vector<Variable> inputs{nb};
  for (const auto* group : {&b.seq_outer, &b.state_initial, &b.non_seq_outer})
    inputs.insert(inputs.end(), group->begin(), group->end());
  std::shared_ptr<const ScanBody> shared = b.body;
  std::vector<Variable> outs;
  for (std::size_t j = 0; j < body.outputs.size(); ++j) outs.push_back(scan_node(inputs, shared, j, where));
  return outs;
}


// A deferred gradient: each term summed over the steps the backward loop ran.
Variable deferred_sum(const Backward& b, const std::vector<Backward::Deferred>& terms, const std::vector<Variable>& back,
                      const Variable& skipped) {
  Variable total;
  for (const Backward::Deferred& d : terms) {
    std::vector<Variable> stacked;
    for (int source : d.sources)
      stacked.push_back(source >= 0 ? back[b.state_inner.size() + static_cast<std::size_t>(source)]
                                    : T::subtensor(b.seq_forward[static_cast<std::size_t>(-1 - source)],
                                                   {Slice(skipped, std::nullopt)}));
    const Variable v = sum_over_steps(d.term, stacked);
    total = total.defined() ? total + v : v;
  }
  return total;
}

// The gradients of the forward scan's outer inputs from the backward loop's
// outputs: its states first (pending sums per recurrent output, then the
// non-sequences' accumulators), then the sequences' gradients per tap.
std::vector<Variable> outer_gradients(const ScanBody& f, const Backward& b, const std::vector<Variable>& outer,
                                      const std::vector<Variable>& back,
                                      const Variable& n, const Variable& nb, const Variable& skipped) {
  std::vector<Variable> result(outer.size());
  std::size_t q = 0;
  const bool truncated = f.truncate_gradient >= 0;
  for (std::size_t j = 0; j < f.outputs.size(); ++j) {
    const int lags = f.outputs[j].lags();
    if (lags == 0) continue;
    std::vector<Variable> finals;
    for (int m = 0; m < lags; ++m, ++q) {
      Variable w = last(back[q]);
      // A truncated loop that stops before step 0 sends nothing to the initial state.
      if (truncated) w = T::switch_(T::eq(nb, n), w, T::zeros_like(w));
      finals.push_back(w);
    }
    const auto k = static_cast<std::size_t>(f.initial_input(j));
    if (!is_float(outer[k].dtype())) continue;
    result[k] = f.outputs[j].plain_initial
                    ? finals[0]
                    : T::set_subtensor(rows(T::zeros_like(outer[k]), int64_constant(0), int64_constant(lags)),
                                       T::stack(finals, 0));
  }
  for (std::size_t p = 0; p < f.num_non_sequences; ++p) {
    const std::size_t k = f.first_non_sequence() + p;
    if (!is_float(outer[k].dtype())) continue;
    result[k] = b.accumulates[p] ? last(back[q++]) : T::zeros_like(outer[k]);
    if (!b.deferred[p].empty()) result[k] = deferred_sum(b, b.deferred[p], back, skipped);
  }
  std::size_t tap_index = 0;  // into b.seq_tap_emitted
  const bool covers_every_row = !truncated && f.sequences.size() == 1 && f.sequences[0].taps.size() == 1 &&
                                outer[0].node()->op == OpCode::Constant && outer[0].node()->value.item<std::int64_t>() < 0;
  for (std::size_t s = 0; s < f.sequences.size(); ++s) {
    const Variable& x = outer[1 + s];
    if (!is_float(x.dtype())) continue;
    // Each tap's gradients fill rows [start, start + nb) of the sequence's;
    // the rows before and after get zeros (concatenated: one copy, no
    // element-by-element increment).
    Variable g;
    for (int tap : f.sequences[s].taps) {
      if (!b.seq_tap_emitted[tap_index++]) continue;
      const std::int64_t offset = tap - f.sequences[s].taps.front();
      const Variable start = truncated ? skipped + int64_constant(offset) : int64_constant(offset);
      std::vector<Variable> parts;
      if (truncated || offset > 0) parts.push_back(T::zeros_like(rows(x, int64_constant(0), start)));
      parts.push_back(back[q++]);  // (rows in forward order)
      // With one sequence of one tap and no n_steps, the loop covers every
      // row: the gradient is the loop's output itself, not a copy of it.
      if (!covers_every_row) parts.push_back(T::zeros_like(T::subtensor(x, {Slice(start + nb, std::nullopt)})));
      const Variable part = parts.size() == 1 ? parts[0] : T::concatenate(parts, 0);
      g = g.defined() ? g + part : part;
    }
    result[1 + s] = g.defined() ? g : T::zeros_like(x);
  }
  return result;
}

}  // namespace

std::vector<Variable> scan_grad(const Node& node, const std::vector<std::pair<int, Variable>>& output_grads) {
  const ScanBody& f = *node.attrs.scan;
  const std::source_location where = node.where;
  // A backward loop keeps only its states' last values, which a gradient
  // through it would need whole.
  for (const ScanBody::Output& out : f.outputs)
    if (out.last_only && !out.taps.empty())
      throw GradError(fmt::format("grad: the gradient through scan '{}' (built at {}) is itself a loop that keeps only "
                                  "its last states; a gradient of a gradient through scan is not supported",
                                  f.name, ops::where_str(f.where)));
  std::vector<Variable> outer;
  for (const NodeRef& in : node.inputs) outer.push_back(Variable(in));
  std::vector<Variable> y, gy(f.outputs.size());
  for (std::size_t j = 0; j < f.outputs.size(); ++j) y.push_back(scan_node(outer, node.attrs.scan, j, where));
  for (const auto& [j, g] : output_grads) gy[static_cast<std::size_t>(j)] = g;
  // A gradient loop's outputs hold step t at row n-1-t: in step order, reversed.
  for (std::size_t j = 0; j < f.outputs.size(); ++j)
    if (f.outputs[j].reversed_rows) {
      y[j] = reversed(y[j]);
      if (gy[j].defined()) gy[j] = reversed(gy[j]);
    }
  const Variable n = y[0].shape(0);
  const Variable nb = f.truncate_gradient >= 0 ? T::minimum(n, int64_constant(f.truncate_gradient)) : n;
  const Variable skipped = n - nb;  // forward steps the truncated backward loop does not visit

  Backward b;
  b.body->name = f.name + "_grad";
  b.body->where = where;
  // The forward inputs at each step, as backward sequences (same inner nodes).
  std::size_t i = 0;
  for (std::size_t s = 0; s < f.sequences.size(); ++s)
    for (int tap : f.sequences[s].taps) {
      const Variable start = int64_constant(tap - f.sequences[s].taps.front());
      b.sequence(Variable(f.inner_inputs[i++]), rows(outer[1 + s], start, start + n));
    }
  std::vector<Variable> hist(f.outputs.size());
  for (std::size_t j = 0; j < f.outputs.size(); ++j) {
    if (f.outputs[j].taps.empty()) continue;
    hist[j] = history(f, j, outer[static_cast<std::size_t>(f.initial_input(j))], y[j]);
    for (int tap : f.outputs[j].taps) {
      const Variable start = int64_constant(f.outputs[j].lags() + tap);
      b.sequence(Variable(f.inner_inputs[i++]), rows(hist[j], start, start + n));
    }
  }
  for (std::size_t p = 0; p < f.num_non_sequences; ++p) {
    b.non_seq_inner.push_back(Variable(f.inner_inputs[i]));
    b.non_seq_outer.push_back(outer[f.first_non_sequence() + p]);
    ++i;
  }
  backward_step(f, y, gy, hist, b, where);
  const std::vector<Variable> back = backward_nodes(b, nb, where);
  return outer_gradients(f, b, outer, back, n, nb, skipped);
}

}  // namespace graphjit::ir

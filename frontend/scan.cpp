// graphjit::scan (theano.scan): builds the step's graph on private inner
// inputs, moves what does not change from step to step out of the loop, and
// makes one Scan node per output (frontend/ops/scan.cpp runs them).
#include <graphjit/errors.hpp>
#include <graphjit/random_streams.hpp>
#include <graphjit/scan.hpp>
#include <graphjit/tensor.hpp>

#include "compiler/ir/graph.hpp"
#include "compiler/ir/scan_body.hpp"
#include "frontend/default_updates.hpp"
#include "frontend/ops/op_support.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unordered_map>
#include <unordered_set>

namespace graphjit {

namespace {

namespace T = tensor;

using ir::row_type;

Variable placeholder(const ir::Type& type, std::string name, std::source_location where) {
  return Variable(ir::make_input(type, std::move(name), where));
}

std::string tap_name(const Variable& v, const char* fallback, std::size_t i, int tap) {
  const std::string base = v.name().empty() ? fmt::format("{}{}", fallback, i) : v.name();
  return tap == 0 ? fmt::format("{}[t]", base) : fmt::format("{}[t{:+d}]", base, tap);
}

void check_taps(const std::vector<int>& taps, bool negative, const std::string& what) {
  if (taps.empty()) throw TypeError(fmt::format("scan: {} has no taps", what));
  for (std::size_t i = 0; i < taps.size(); ++i) {
    if (negative && taps[i] >= 0)
      throw TypeError(fmt::format("scan: {} has tap {}; the taps of an output must be negative (earlier steps)", what,
                                  taps[i]));
    if (i > 0 && taps[i] <= taps[i - 1])
      throw TypeError(fmt::format("scan: the taps of {} must be listed in increasing order, without repeats", what));
  }
}

Variable reversed(const Variable& x, std::source_location where) {
  return T::subtensor(x, {Slice(std::nullopt, std::nullopt, constant(std::int64_t{-1}, int64))}, where);
}

// What scan() assembles before making the nodes.
struct Loop {
  std::shared_ptr<ir::ScanBody> body = std::make_shared<ir::ScanBody>();
  std::vector<Variable> sequences, initials, non_sequences;  // outer inputs
  std::vector<Variable> seq_inner, state_inner, non_seq_inner;
  ScanUpdates updates;  // targets, and their step values (later: their final values)
};

void add_sequences(Loop& loop, const ScanOptions& o, std::source_location where) {
  for (std::size_t s = 0; s < o.sequences.size(); ++s) {
    const ScanSequence& seq = o.sequences[s];
    if (!seq.input.defined()) throw TypeError(fmt::format("scan: sequence {} is an undefined Variable", s));
    if (seq.input.ndim() == 0)
      throw TypeError(fmt::format("scan: sequence {} ('{}') is a scalar; a sequence is iterated over its axis 0", s,
                                  seq.input.label()));
    check_taps(seq.taps, false, fmt::format("sequence {} ('{}')", s, seq.input.label()));
    loop.body->sequences.push_back({seq.taps});
    loop.sequences.push_back(o.go_backwards ? reversed(seq.input, where) : seq.input);
    for (int tap : seq.taps)
      loop.seq_inner.push_back(placeholder(row_type(seq.input.node()->type), tap_name(seq.input, "sequence", s, tap), where));
  }
}

void add_states(Loop& loop, const ScanOptions& o, std::source_location where) {
  for (std::size_t j = 0; j < o.outputs_info.size(); ++j) {
    const ScanOutputInfo& info = o.outputs_info[j];
    ir::ScanBody::Output out;
    if (info.initial.defined()) {
      check_taps(info.taps, true, fmt::format("output {} ('{}')", j, info.initial.label()));
      out.taps = info.taps;
      out.plain_initial = info.taps == std::vector<int>{-1};
      if (!out.plain_initial && info.initial.ndim() == 0)
        throw TypeError(fmt::format("scan: the initial state of output {} ('{}') is a scalar; with taps other than "
                                    "[-1] it needs a leading axis holding the first states", j, info.initial.label()));
      const ir::Type state = out.plain_initial ? info.initial.node()->type : row_type(info.initial.node()->type);
      loop.initials.push_back(info.initial);
      for (int tap : info.taps) loop.state_inner.push_back(placeholder(state, tap_name(info.initial, "output", j, tap), where));
    }
    loop.body->outputs.push_back(out);
  }
}

// The step's outputs must keep their states' dtype and rank.
void check_step_types(const Loop& loop, const std::vector<Variable>& outs, const std::string& label) {
  for (std::size_t j = 0; j < outs.size(); ++j) {
    const int k = loop.body->initial_input(j);
    if (!outs[j].defined()) throw TypeError(fmt::format("{}: the step's output {} is an undefined Variable", label, j));
    if (k < 0) continue;
    const Variable& initial = loop.initials[static_cast<std::size_t>(k) - loop.body->first_initial()];
    const ir::Type want = loop.body->outputs[j].plain_initial ? initial.node()->type : row_type(initial.node()->type);
    const ir::Type& got = outs[j].node()->type;
    if (got.dtype != want.dtype || got.ndim() != want.ndim())
      throw TypeError(fmt::format("{}: the step returns {} for output {} (state '{}', the step's value built at {}), but its initial "
                                  "state is {} per step; the step must keep the state's dtype and rank (cast the "
                                  "step's result or the initial state)",
                                  label, got.str(), j, initial.label(), ops::where_str(outs[j].node()->where),
                                  want.str()));
  }
}

}  // namespace

namespace {

// Shared variables the step updates are states too: fed back at tap -1 from
// their value before the loop; the update is their value after the last step.
std::vector<ir::NodeRef> add_update_states(Loop& loop, ScanStep& step, std::source_location where) {
  ir::Replacements inner_of;
  std::vector<ir::NodeRef> outs;
  for (const Variable& v : step.outputs) outs.push_back(v.node());
  for (auto& [target, value] : step.updates) {
    if (!target.defined() || !target.state() || !value.defined())
      throw TypeError(fmt::format("{}: an update the step returns is undefined or not of a shared variable",
                                  loop.body->name));
    if (value.dtype() != target.dtype() || value.ndim() != target.ndim())
      throw TypeError(fmt::format("{}: the step updates shared variable '{}' ({}) with a value of type {} (built at "
                                  "{}); cast the value", loop.body->name, target.label(), target.type_str(),
                                  value.type_str(), ops::where_str(value.node()->where)));
    const Variable inner = placeholder(target.node()->type, tap_name(target, "shared", 0, -1), where);
    inner_of[target.node().get()] = inner.node();
    loop.body->outputs.push_back({.taps = {-1}, .plain_initial = true});
    loop.initials.push_back(target);
    loop.state_inner.push_back(inner);
    outs.push_back(value.node());
    loop.updates.emplace_back(target, value);
  }
  return inner_of.empty() ? outs : ir::clone_replace(outs, inner_of);
}

// Random draws (and any shared variable with a default update) inside the
// step are drawn afresh at every step, as in Theano: the stream state the
// step reads becomes a state of the loop, its default update the step's next
// state, and its value after the last step an update scan returns. Returns
// the states so added (their final values become their default updates).
std::vector<SharedVariable> add_default_updates(ScanStep& step) {
  std::unordered_set<const SharedState*> updated;
  std::vector<Variable> roots = step.outputs;
  for (const auto& [target, value] : step.updates) {
    if (target.state()) updated.insert(target.state().get());
    roots.push_back(value);
  }
  std::vector<SharedVariable> added;
  for (auto& found : gather_default_updates(roots, [&](const SharedState* s) { return updated.count(s) > 0; })) {
    added.push_back(found.first);
    step.updates.push_back(std::move(found));
  }
  return added;
}

// Loop-invariant values leave the body: a value the step computes without
// reading a sequence or a state (a shared variable, an outer input, W.T of a
// non-sequence W) is computed once before the loop and passed in as a
// non-sequence. Constants stay, for the body's own rewrites.
std::vector<ir::NodeRef> hoist_invariants(Loop& loop, const std::vector<ir::NodeRef>& outs, bool strict,
                                          std::source_location where) {
  std::unordered_set<const ir::Node*> variant;
  for (const Variable& v : loop.seq_inner) variant.insert(v.node().get());
  for (const Variable& v : loop.state_inner) variant.insert(v.node().get());
  ir::Replacements outer_of;  // non-sequence placeholder -> the outer value
  for (std::size_t p = 0; p < loop.non_sequences.size(); ++p)
    outer_of[loop.non_seq_inner[p].node().get()] = loop.non_sequences[p].node();
  const std::vector<ir::NodeRef> order = ir::toposort(outs);
  for (const ir::NodeRef& n : order)
    for (const ir::NodeRef& in : n->inputs)
      if (variant.count(in.get())) {
        variant.insert(n.get());
        break;
      }
  ir::Replacements lifted;  // invariant body value -> its new placeholder
  auto lift = [&](const ir::NodeRef& v) {
    if (variant.count(v.get()) || v->op == ir::OpCode::Constant || outer_of.count(v.get()) || lifted.count(v.get())) return;
    if (strict && (v->op == ir::OpCode::Shared || v->op == ir::OpCode::Input))
      throw TypeError(fmt::format("{} (strict): the step uses '{}' ({}), which is not among the non_sequences; pass it "
                                  "as a non-sequence or set strict = false", loop.body->name, v->label(), v->type.str()));
    const Variable inner = placeholder(v->type, v->name.empty() ? "invariant" : v->name, where);
    lifted[v.get()] = inner.node();
    loop.non_seq_inner.push_back(inner);
    loop.non_sequences.push_back(Variable(ir::clone_replace({v}, outer_of).front()));
  };
  for (const ir::NodeRef& n : order)
    if (variant.count(n.get()))
      for (const ir::NodeRef& in : n->inputs) lift(in);
  for (const ir::NodeRef& o : outs) lift(o);
  return lifted.empty() ? outs : ir::clone_replace(outs, lifted);
}

// A sequence of one tap that the step no longer reads once its products are
// pushed out leaves the loop: the loop neither passes its rows nor computes
// a gradient for them (its gradient flows through the products). The
// products have as many rows as it has, so the number of steps is unchanged.
void drop_unread_sequences(Loop& loop, const std::vector<ir::NodeRef>& outs, const std::unordered_set<std::size_t>& sources) {
  const std::unordered_set<const ir::Node*> read = ir::ancestors(outs);
  std::vector<ir::ScanBody::Sequence> kept_taps;
  std::vector<Variable> kept_outer, kept_inner;
  for (std::size_t s = 0, i = 0; s < loop.sequences.size(); ++s) {
    const std::size_t taps = loop.body->sequences[s].taps.size();
    const bool unread = sources.count(s) && taps == 1 && !read.count(loop.seq_inner[i].node().get());
    if (!unread) {
      kept_taps.push_back(loop.body->sequences[s]);
      kept_outer.push_back(loop.sequences[s]);
      kept_inner.insert(kept_inner.end(), loop.seq_inner.begin() + static_cast<std::ptrdiff_t>(i),
                        loop.seq_inner.begin() + static_cast<std::ptrdiff_t>(i + taps));
    }
    i += taps;
  }
  loop.body->sequences = std::move(kept_taps);
  loop.sequences = std::move(kept_outer);
  loop.seq_inner = std::move(kept_inner);
}

// Theano's scan push-out: a product dot(x[t], W) of a sequence's row and a
// non-sequence becomes a sequence of its own, computed for every step before
// the loop as one GEMM over all rows (the input-to-hidden product of an RNN).
std::vector<ir::NodeRef> push_out_products(Loop& loop, const std::vector<ir::NodeRef>& outs, std::source_location where) {
  std::unordered_map<const ir::Node*, std::pair<std::size_t, int>> seq_tap;  // placeholder -> (sequence, tap)
  for (std::size_t s = 0, i = 0; s < loop.body->sequences.size(); ++s)
    for (int tap : loop.body->sequences[s].taps) seq_tap[loop.seq_inner[i++].node().get()] = {s, tap};
  std::unordered_map<const ir::Node*, std::size_t> non_seq;
  for (std::size_t p = 0; p < loop.non_seq_inner.size(); ++p) non_seq[loop.non_seq_inner[p].node().get()] = p;
  ir::Replacements pushed;
  std::unordered_set<std::size_t> sources;  // sequences a product was pushed out of
  for (const ir::NodeRef& n : ir::toposort(outs)) {
    if (n->op != ir::OpCode::Dot) continue;
    auto a = seq_tap.find(n->inputs[0].get());
    auto b = non_seq.find(n->inputs[1].get());
    if (a == seq_tap.end() || b == non_seq.end() || n->inputs[1]->type.ndim() != 2) continue;
    const auto [s, tap] = a->second;
    Variable x = loop.sequences[s];
    if (const int offset = tap - loop.body->sequences[s].taps.front(); offset > 0)
      x = T::subtensor(x, {Slice(constant(std::int64_t{offset}, int64), std::nullopt)}, where);
    const Variable& w = loop.non_sequences[b->second];
    Variable product;
    if (x.ndim() == 2) {
      product = T::dot(x, w, where);
    } else if (x.ndim() == 3) {  // (steps, batch, features): one GEMM over steps * batch rows
      const Variable rows = x.reshape({x.shape(0, where) * x.shape(1, where), x.shape(2, where)}, where);
      product = T::dot(rows, w, where).reshape({x.shape(0, where), x.shape(1, where), w.shape(1, where)}, where);
    } else {
      continue;
    }
    const Variable inner = placeholder(row_type(product.node()->type), fmt::format("{}[t]", n->label()), where);
    loop.body->sequences.push_back({{0}});
    loop.sequences.push_back(product);
    loop.seq_inner.push_back(inner);
    pushed[n.get()] = inner.node();
    sources.insert(s);
  }
  if (pushed.empty()) return outs;
  std::vector<ir::NodeRef> replaced = ir::clone_replace(outs, pushed);
  drop_unread_sequences(loop, replaced, sources);
  return replaced;
}

Variable steps_input(const ScanOptions& o, std::source_location where) {
  if (!o.n_steps) return constant(std::int64_t{-1}, int64);
  const Operand& n = *o.n_steps;
  if (!n.var.defined()) {
    // `integer` is empty for an integer literal past INT64_MAX.
    if (!n.integer_literal || !n.integer || *n.integer < 0)
      throw TypeError(fmt::format("scan at {}: n_steps must be a non-negative integer that fits int64, got {}",
                                  ops::where_str(where), n.number));
    return constant(*n.integer, int64);
  }
  if (n.var.ndim() != 0 || is_float(n.var.dtype()))
    throw TypeError(fmt::format("scan at {}: n_steps must be an integer scalar, got '{}' ({})", ops::where_str(where),
                                n.var.label(), n.var.type_str()));
  return n.var.dtype() == int64 ? n.var : T::cast(n.var, int64);
}

}  // namespace

ScanResult scan(const ScanFunction& fn, const ScanOptions& options, std::source_location where) {
  Loop loop;
  loop.body->name = options.name.empty() ? "scan" : options.name;
  loop.body->where = where;
  const std::string label = fmt::format("{} (built at {})", loop.body->name, ops::where_str(where));
  add_sequences(loop, options, where);
  add_states(loop, options, where);
  for (std::size_t p = 0; p < options.non_sequences.size(); ++p) {
    const Variable& v = options.non_sequences[p];
    if (!v.defined()) throw TypeError(fmt::format("{}: non-sequence {} is an undefined Variable", label, p));
    loop.non_sequences.push_back(v);
    loop.non_seq_inner.push_back(placeholder(v.node()->type, v.name().empty() ? fmt::format("non_sequence{}", p) : v.name(), where));
  }

  std::vector<Variable> args = loop.seq_inner;
  args.insert(args.end(), loop.state_inner.begin(), loop.state_inner.end());
  args.insert(args.end(), loop.non_seq_inner.begin(), loop.non_seq_inner.end());
  ScanStep step = fn(args);
  const std::size_t num_outputs = step.outputs.size();
  if (!options.outputs_info.empty() && options.outputs_info.size() != num_outputs)
    throw TypeError(fmt::format("{}: outputs_info has {} entries but the step returns {} outputs; give one entry per "
                                "output (an empty ScanOutputInfo for outputs not fed back)",
                                label, options.outputs_info.size(), num_outputs));
  while (loop.body->outputs.size() < num_outputs) loop.body->outputs.push_back({});
  check_step_types(loop, step.outputs, label);
  const std::vector<SharedVariable> streams = add_default_updates(step);
  std::vector<ir::NodeRef> outs = add_update_states(loop, step, where);
  outs = hoist_invariants(loop, outs, options.strict, where);
  if (options.push_out) outs = push_out_products(loop, outs, where);

  ir::ScanBody& body = *loop.body;
  body.num_non_sequences = loop.non_sequences.size();
  for (const auto* group : {&loop.seq_inner, &loop.state_inner, &loop.non_seq_inner})
    for (const Variable& v : *group) body.inner_inputs.push_back(v.node());
  body.inner_outputs = outs;
  body.truncate_gradient = options.truncate_gradient;

  std::vector<Variable> inputs{steps_input(options, where)};
  for (const auto* group : {&loop.sequences, &loop.initials, &loop.non_sequences})
    inputs.insert(inputs.end(), group->begin(), group->end());
  ScanResult result;
  std::shared_ptr<const ir::ScanBody> shared_body = loop.body;
  for (std::size_t j = 0; j < body.outputs.size(); ++j) {
    ir::Attrs attrs;
    attrs.ints = {static_cast<std::int64_t>(j)};
    attrs.scan = shared_body;
    const Variable out = ops::apply(ir::OpCode::Scan, inputs, attrs, where);
    if (j < num_outputs) result.outputs.push_back(out);
    else result.updates.emplace_back(loop.updates[j - num_outputs].first, out[Index(-1, where)]);
  }
  // A function computing the loop advances the streams its step drew from,
  // whether or not the caller passes result.updates.
  for (const auto& [target, value] : result.updates)
    for (const SharedVariable& s : streams)
      if (s.state() == target.state()) set_default_update(target, value);
  return result;
}

ScanResult map(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
               const std::vector<Variable>& non_sequences, bool go_backwards, std::source_location where) {
  return scan(fn, {.sequences = sequences, .non_sequences = non_sequences, .go_backwards = go_backwards, .name = "map"},
              where);
}

ScanResult reduce(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
                  const std::vector<ScanOutputInfo>& outputs_info, const std::vector<Variable>& non_sequences,
                  bool go_backwards, std::source_location where) {
  ScanResult r = scan(fn,
                      {.sequences = sequences, .outputs_info = outputs_info, .non_sequences = non_sequences,
                       .go_backwards = go_backwards, .name = "reduce"},
                      where);
  for (Variable& out : r.outputs) out = out[Index(-1, where)];
  return r;
}

ScanResult foldl(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
                 const std::vector<ScanOutputInfo>& outputs_info, const std::vector<Variable>& non_sequences,
                 std::source_location where) {
  return reduce(fn, sequences, outputs_info, non_sequences, false, where);
}

ScanResult foldr(const ScanFunction& fn, const std::vector<ScanSequence>& sequences,
                 const std::vector<ScanOutputInfo>& outputs_info, const std::vector<Variable>& non_sequences,
                 std::source_location where) {
  return reduce(fn, sequences, outputs_info, non_sequences, true, where);
}

}  // namespace graphjit

#include "compiler/lower/jit_executor.hpp"

#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/lower/fusion.hpp"
#include "frontend/ops/op_support.hpp"

#include <graphjit/errors.hpp>
#include <graphjit/runtime/blas.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <queue>
#include <unordered_set>

namespace graphjit::compiler::lower {

namespace {

using ir::NodeRef;
using ir::OpCode;

// Ops whose steps return views of their first input (reference kernels, and
// Alloc's stride-0 broadcast): readers of the view read the input's memory.
bool returns_view(OpCode op) {
  return op == OpCode::DimShuffle || op == OpCode::Subtensor || op == OpCode::Reshape || op == OpCode::Alloc;
}

bool is_leaf(const ir::Node& n) { return ir::op_info(n.op).kind == ir::OpKind::Leaf; }

bool is_blas_product(const ir::Node& n) {
  if (n.op == OpCode::Gemm) return true;
  return n.op == OpCode::Dot && n.inputs[0]->type.ndim() == 2 && n.inputs[1]->type.ndim() == 2 &&
         is_float(n.type.dtype) && n.inputs[0]->type.dtype == n.type.dtype && n.inputs[1]->type.dtype == n.type.dtype;
}

// Orders steps so each runs after the steps it reads from and, for in-place
// updates, after the other readers of the value it overwrites. Ties keep the
// program's order. Returns fewer than n steps when the edges form a cycle.
std::vector<std::size_t> order_steps(std::size_t n, const std::vector<std::vector<std::size_t>>& after) {
  std::vector<int> waiting(n, 0);
  std::vector<std::vector<std::size_t>> users(n);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t dep : after[s])
      if (dep != s) {
        ++waiting[s];
        users[dep].push_back(s);
      }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t s = 0; s < n; ++s)
    if (!waiting[s]) ready.push(s);
  std::vector<std::size_t> order;
  while (!ready.empty()) {
    std::size_t s = ready.top();
    ready.pop();
    order.push_back(s);
    for (std::size_t u : users[s])
      if (--waiting[u] == 0) ready.push(u);
  }
  return order;
}

}  // namespace

JitExecutor::JitExecutor(const Program& program) : program_(program) {
  const std::vector<NodeRef> order = ir::toposort(program.outputs);
  const Fusion fusion = fuse(order, program.outputs);

  std::unordered_map<const ir::Node*, int> slot;
  auto slot_of = [&](const ir::Node* n) {
    auto [it, inserted] = slot.try_emplace(n, static_cast<int>(slot_node_.size()));
    if (inserted) slot_node_.push_back(n);
    return it->second;
  };

  // Leaves.
  for (std::size_t i = 0; i < program.inputs.size(); ++i) input_slots_.emplace_back(slot_of(program.inputs[i].get()), i);
  for (const NodeRef& n : order) {
    if (n->op == OpCode::Shared) shared_slots_.emplace_back(slot_of(n.get()), n->shared);
    if (n->op == OpCode::Constant) slot_of(n.get());
  }

  // One step per cluster, per product, per other op; `producer` maps a slot to its step.
  std::vector<Step> steps;
  std::unordered_map<int, std::size_t> producer;
  std::vector<codegen::Cluster> clusters;
  std::vector<std::size_t> cluster_step(fusion.clusters.size(), SIZE_MAX);
  for (const NodeRef& n : order) {
    if (is_leaf(*n)) continue;
    if (auto c = fusion.cluster_of.find(n.get()); c != fusion.cluster_of.end()) {
      if (cluster_step[c->second] != SIZE_MAX) continue;
      const codegen::Cluster& cluster = fusion.clusters[c->second];
      Step step;
      step.kind = Step::Kind::Kernel;
      step.kernel = clusters.size();
      for (const NodeRef& in : cluster.inputs) step.in.push_back(slot_of(in.get()));
      for (const NodeRef& out : cluster.outputs) step.out.push_back(slot_of(out.get()));
      for (const NodeRef& r : cluster.reductions) step.out.push_back(slot_of(r.get()));
      clusters.push_back(cluster);
      cluster_step[c->second] = steps.size();
      steps.push_back(std::move(step));
      continue;
    }
    Step step;
    step.kind = is_blas_product(*n)         ? Step::Kind::Gemm
                : n->op == OpCode::Alloc ? Step::Kind::Broadcast
                                         : Step::Kind::Reference;
    step.node = n.get();
    for (const NodeRef& in : n->inputs) step.in.push_back(slot_of(in.get()));
    step.out.push_back(slot_of(n.get()));
    steps.push_back(std::move(step));
  }
  for (std::size_t s = 0; s < steps.size(); ++s) {
    for (int o : steps[s].out) producer[o] = s;
    steps[s].inplace.assign(steps[s].out.size(), -1);
  }
  for (const NodeRef& out : program.outputs) output_slots_.push_back(slot_of(out.get()));

  // The memory each slot reads: views lead back to the node that owns the buffer.
  std::vector<int> root(slot_node_.size());
  for (std::size_t s = 0; s < slot_node_.size(); ++s) root[s] = static_cast<int>(s);
  auto follow_views = [&] {
    for (const NodeRef& n : order)
      if (returns_view(n->op)) root[slot.at(n.get())] = root[slot.at(n->inputs[0].get())];
  };
  follow_views();

  // In-place updates: the update value's step overwrites the shared value it
  // reads, when nothing else needs the old value after it or sees the buffer.
  std::unordered_map<int, int> readers_of_value;  // slot -> how many step inputs read it
  for (const Step& st : steps)
    for (int i : st.in) ++readers_of_value[i];
  std::unordered_set<int> visible;  // buffers the caller gets to see (user outputs)
  for (std::size_t o = 0; o < program.num_user_outputs; ++o) visible.insert(root[output_slots_[o]]);
  std::vector<std::vector<std::size_t>> after(steps.size());
  for (std::size_t s = 0; s < steps.size(); ++s)
    for (int i : steps[s].in)
      if (auto p = producer.find(i); p != producer.end()) after[s].push_back(p->second);
  auto base_after = after;
  output_inplace_.assign(program.outputs.size(), false);
  std::vector<std::pair<std::size_t, std::size_t>> inplace_choices;  // (output index, step)
  for (std::size_t u = 0; u < program.update_targets.size(); ++u) {
    const std::size_t o = program.num_user_outputs + u;
    const int value = output_slots_[o];
    auto target = std::find_if(shared_slots_.begin(), shared_slots_.end(),
                               [&](const auto& ss) { return ss.second == program.update_targets[u]; });
    auto p = producer.find(value);
    if (target == shared_slots_.end() || p == producer.end() || visible.count(target->first)) continue;
    if (readers_of_value[value] != 0 || std::count(output_slots_.begin(), output_slots_.end(), value) != 1) continue;
    Step& st = steps[p->second];
    const ir::Node& vnode = *slot_node_[value];
    const auto out_pos = std::find(st.out.begin(), st.out.end(), value) - st.out.begin();
    bool reads_directly = false;
    if (st.kind == Step::Kind::Gemm) reads_directly = st.node->op == OpCode::Gemm && st.in[2] == target->first;
    if (st.kind == Step::Kind::Kernel)
      reads_directly = std::find(st.in.begin(), st.in.end(), target->first) != st.in.end() &&
                       vnode.type == slot_node_[target->first]->type;
    if (!reads_directly) continue;
    // The step may read the old value only as the very view it overwrites
    // (element i read, then element i written): through another view of it
    // (W.T, W[0], gemm's a or b) it would read elements it has already written.
    bool reads_other_view = false;
    for (std::size_t k = 0; k < st.in.size(); ++k) {
      const bool the_overwritten_view = st.kind == Step::Kind::Gemm ? k == 2 : st.in[k] == target->first;
      reads_other_view = reads_other_view || (root[st.in[k]] == target->first && !the_overwritten_view);
    }
    if (reads_other_view) continue;
    // Every other reader of the old value runs first.
    for (std::size_t r = 0; r < steps.size(); ++r) {
      if (r == p->second) continue;
      for (int i : steps[r].in)
        if (root[i] == target->first) after[p->second].push_back(r);
    }
    st.inplace[out_pos] = target->first;
    output_inplace_[o] = true;
    inplace_choices.emplace_back(o, p->second);
  }
  // A gemm's c computed by a kernel for this gemm alone (the broadcast bias of
  // dot(x, W) + b) is accumulated onto in its own buffer instead of copied.
  const std::unordered_set<int> program_outputs(output_slots_.begin(), output_slots_.end());
  for (Step& st : steps) {
    if (st.kind != Step::Kind::Gemm || st.node->op != OpCode::Gemm || st.node->attrs.beta == 0 || st.inplace[0] >= 0)
      continue;
    const int c = st.in[2];
    auto p = producer.find(c);
    if (p == producer.end() || steps[p->second].kind != Step::Kind::Kernel || readers_of_value[c] != 1 ||
        program_outputs.count(c) || st.in[0] == c || st.in[1] == c)
      continue;
    st.inplace[0] = c;
    root[st.out[0]] = root[c];  // the product lives in c's buffer, and so do views of it
  }
  follow_views();
  std::vector<std::size_t> step_order = order_steps(steps.size(), after);
  if (step_order.size() != steps.size()) {  // an in-place choice made a cycle: do without them
    for (auto [o, s] : inplace_choices) {
      output_inplace_[o] = false;
      std::fill(steps[s].inplace.begin(), steps[s].inplace.end(), -1);
    }
    step_order = order_steps(steps.size(), base_after);
    if (step_order.size() != steps.size())
      throw std::logic_error("graphjit internal error: the fused steps depend on each other in a cycle");
  }
  for (std::size_t s : step_order) steps_.push_back(std::move(steps[s]));
  plan_buffers(root);

  slots_.resize(slot_node_.size());
  for (std::size_t s = 0; s < slot_node_.size(); ++s)
    if (slot_node_[s]->op == OpCode::Constant) slots_[s] = slot_node_[s]->value;

  const char* profile = std::getenv("GRAPHJIT_PROFILE");
  profile_ = profile && *profile && std::string(profile) != "0";
  if (!clusters.empty()) {
    kernels_ = codegen::compile_kernels(clusters, "graphjit_function");
    compile_ms_ = kernels_.front().module_compile_ms();
  }
}

// Whether an update may be written into shared slot `target` this call: the
// shapes agree, and no other leaf is a view of the same memory (an argument
// f(W.get_value(true).T), a shared variable set from the same tensor), which
// the write would change under the steps that read it.
bool JitExecutor::overwritable(int target, const Shape& shape) const {
  if (target < 0 || slots_[target].shape() != shape) return false;
  for (std::size_t s = 0; s < slots_.size(); ++s)
    if (static_cast<int>(s) != target && is_leaf(*slot_node_[s]) && slots_[s].shares_storage_with(slots_[target]))
      return false;
  return true;
}

// Interval colouring in step order: an output takes a buffer whose previous
// value (and every view of it) was last read by an earlier step. Never one
// freed by the same step: a kernel may not write over an input it is reading
// unless it is the same view, which only in-place updates arrange.
void JitExecutor::plan_buffers(const std::vector<int>& root) {
  constexpr std::size_t kForever = SIZE_MAX;
  std::vector<std::size_t> last_use(slot_node_.size(), 0);
  for (std::size_t t = 0; t < steps_.size(); ++t)
    for (int i : steps_[t].in) last_use[root[i]] = std::max(last_use[root[i]], t);
  for (int o : output_slots_) last_use[root[o]] = kForever;
  // A reference kernel may return a view of any of its inputs (not only the
  // ops returns_view() knows): its inputs' memory lives as long as its output.
  for (std::size_t t = steps_.size(); t-- > 0;) {
    const Step& step = steps_[t];
    if (step.kind != Step::Kind::Reference && step.kind != Step::Kind::Broadcast) continue;
    for (int i : step.in) last_use[root[i]] = std::max(last_use[root[i]], last_use[root[step.out[0]]]);
  }
  std::vector<int> holder;  // per buffer: the slot whose value it holds
  for (std::size_t t = 0; t < steps_.size(); ++t) {
    Step& step = steps_[t];
    step.buffer_id.assign(step.out.size(), -1);
    if (step.kind != Step::Kind::Kernel && step.kind != Step::Kind::Gemm) continue;
    for (std::size_t j = 0; j < step.out.size(); ++j) {
      const int slot = step.out[j];
      auto free = std::find_if(holder.begin(), holder.end(), [&](int h) { return h < 0 || last_use[root[h]] < t; });
      if (free == holder.end()) free = holder.insert(holder.end(), -1);
      *free = slot;
      step.buffer_id[j] = static_cast<int>(free - holder.begin());
    }
  }
  pool_.resize(holder.size());
}

Tensor JitExecutor::buffer(const Step& step, std::size_t j, const Shape& shape, DType dtype) {
  std::shared_ptr<Storage>& storage = pool_[step.buffer_id[j]];
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (!storage || storage->bytes() < bytes) storage = std::make_shared<Storage>(std::max<std::size_t>(bytes, 1));
  return Tensor(storage, dtype, shape, contiguous_strides(shape), 0);
}

void JitExecutor::run_kernel(Step& step) {
  const codegen::Kernel& kernel = kernels_[step.kernel];
  std::vector<Tensor> inputs;
  inputs.reserve(step.in.size());
  for (int i : step.in) inputs.push_back(slots_[i]);
  const std::vector<Shape> shapes = kernel.output_shapes(inputs);
  const std::vector<DType> dtypes = kernel.output_dtypes();
  std::vector<Tensor> outputs(step.out.size());
  for (std::size_t j = 0; j < step.out.size(); ++j) {
    if (overwritable(step.inplace[j], shapes[j])) outputs[j] = slots_[step.inplace[j]];
    else outputs[j] = buffer(step, j, shapes[j], dtypes[j]);
  }
  kernel.run(inputs, outputs);
  for (std::size_t j = 0; j < step.out.size(); ++j) slots_[step.out[j]] = outputs[j];
}

void JitExecutor::run_gemm(Step& step) {
  const ir::Node& node = *step.node;
  const Tensor& a = slots_[step.in[0]];
  const Tensor& b = slots_[step.in[1]];
  const bool gemm = node.op == OpCode::Gemm;
  const bool ta = gemm && node.attrs.trans_a, tb = gemm && node.attrs.trans_b;
  const std::int64_t m = ta ? a.shape(1) : a.shape(0), ka = ta ? a.shape(0) : a.shape(1);
  const std::int64_t kb = tb ? b.shape(1) : b.shape(0), n = tb ? b.shape(0) : b.shape(1);
  if (ka != kb)
    ops::shape_error(node, {a, b}, fmt::format("the matrix product needs matching inner dims, got {} and {}", ka, kb));
  const double alpha = gemm ? node.attrs.alpha : 1.0, beta = gemm ? node.attrs.beta : 0.0;
  const Shape shape{m, n};
  Tensor out;
  if (overwritable(step.inplace[0], shape)) {
    out = slots_[step.inplace[0]];
  } else {
    out = buffer(step, 0, shape, node.type.dtype);
    if (beta != 0) out.assign(slots_[step.in[2]]);
  }
  graphjit::gemm(ta, tb, alpha, a, b, beta, out);
  slots_[step.out[0]] = out;
}

void JitExecutor::run_step(Step& step) {
  switch (step.kind) {
    case Step::Kind::Kernel: return run_kernel(step);
    case Step::Kind::Gemm: return run_gemm(step);
    case Step::Kind::Broadcast: {
      // Alloc as a stride-0 view: no step writes into its inputs except
      // in-place updates of shared values, so the copy would be wasted.
      Shape shape;
      for (std::size_t i = 1; i < step.in.size(); ++i) shape.push_back(slots_[step.in[i]].item<std::int64_t>());
      const Tensor& value = slots_[step.in[0]];
      const bool valid = std::all_of(shape.begin(), shape.end(), [](std::int64_t d) { return d >= 0; });
      if (value.ndim() != 0 || !valid) break;  // the reference kernel says what is wrong
      slots_[step.out[0]] = value.broadcast_to(shape);
      return;
    }
    case Step::Kind::Reference: break;
  }
  std::vector<Tensor> inputs;
  inputs.reserve(step.in.size());
  for (int i : step.in) inputs.push_back(slots_[i]);
  slots_[step.out[0]] = ir::op_info(step.node->op).reference(*step.node, inputs);
}

std::vector<Tensor> JitExecutor::run(const std::vector<Tensor>& args) { return run(args, Observer()); }

std::vector<Tensor> JitExecutor::run(const std::vector<Tensor>& args, const Observer& observe) {
  for (auto [s, i] : input_slots_) slots_[s] = args[i];
  for (auto& [s, state] : shared_slots_) slots_[s] = state->value;
  ++calls_;
  for (Step& step : steps_) {
    try {
      if (profile_) {
        const auto t0 = std::chrono::steady_clock::now();
        run_step(step);
        step.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } else {
        run_step(step);
      }
    } catch (const ShapeError& e) {
      if (step.kind != Step::Kind::Kernel) throw;
      // Name the user's expression: the kernel only knows its own operands.
      std::string computing;
      for (int o : step.out)
        computing += fmt::format("{}{} (built at {})", computing.empty() ? "" : ", ", slot_node_[o]->label(),
                                 ops::where_str(slot_node_[o]->where));
      throw ShapeError(fmt::format("{}\n  while computing {}", e.what(), computing));
    }
    if (observe)
      for (int o : step.out) observe(*slot_node_[o], slots_[o]);
  }
  // The caller owns what it gets: user outputs may sit in reused buffers or
  // be views of them, and so may updates not written in place.
  std::vector<Tensor> results;
  results.reserve(output_slots_.size());
  for (std::size_t o = 0; o < output_slots_.size(); ++o) {
    const Tensor& v = slots_[output_slots_[o]];
    if (!v.defined())
      throw std::logic_error(fmt::format("graphjit internal error: no step computed {} ({}); please report it with "
                                         "debugprint of the function",
                                         slot_node_[output_slots_[o]]->label(),
                                         ops::describe(*slot_node_[output_slots_[o]])));
    const bool written_in_place =
        output_inplace_[o] && v.shares_storage_with(program_.update_targets[o - program_.num_user_outputs]->value);
    results.push_back(written_in_place ? v : v.copy());
  }
  return results;
}

std::string JitExecutor::describe(const Step& step) const {
  switch (step.kind) {
    case Step::Kind::Kernel: return kernels_[step.kernel].describe();
    case Step::Kind::Gemm:
    case Step::Kind::Broadcast:
    case Step::Kind::Reference: return ops::describe(*step.node);
  }
  return {};
}

JitExecutor::~JitExecutor() {
  if (!profile_ || calls_ == 0) return;
  double total = 0;
  for (const Step& s : steps_) total += s.seconds;
  std::string table = fmt::format("graphjit profile: {} calls, {:.3f} ms per call\n", calls_, 1e3 * total / calls_);
  std::vector<const Step*> by_time;
  for (const Step& s : steps_) by_time.push_back(&s);
  std::sort(by_time.begin(), by_time.end(), [](auto* a, auto* b) { return a->seconds > b->seconds; });
  for (const Step* s : by_time)
    table += fmt::format("  {:6.1f}%  {:9.1f} us  {}\n", 100 * s->seconds / std::max(total, 1e-12),
                         1e6 * s->seconds / calls_, describe(*s).substr(0, 150));
  std::fputs(table.c_str(), stderr);
}

}  // namespace graphjit::compiler::lower

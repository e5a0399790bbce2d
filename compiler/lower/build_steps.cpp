#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"
#include "compiler/lower/lower.hpp"

#include <fmt/format.h>
#include <stdexcept>
#include <unordered_map>

namespace graphjit::compiler::lower {

int Schedule::slot_of(const ir::Node* n) const {
  for (std::size_t s = 0; s < slots.size(); ++s)
    if (slots[s].get() == n) return static_cast<int>(s);
  return -1;
}

// Steps are in an order where each view's input comes first (build_steps
// makes them in the program's topological order; order_steps keeps that).
void Schedule::update_roots() {
  root.resize(slots.size());
  for (std::size_t s = 0; s < slots.size(); ++s) root[s] = static_cast<int>(s);
  for (const Step& step : steps) {
    if (step.kind == Step::Kind::Native)
      if (const int v = ir::op_info(step.node->op).view_of; v >= 0)
        root[step.out[0]] = root[step.in[static_cast<std::size_t>(v)]];
    for (std::size_t j = 0; j < step.out.size(); ++j)
      if (step.inplace.size() > j && step.inplace[j] >= 0) root[step.out[j]] = root[step.inplace[j]];
  }
}

std::vector<std::vector<std::size_t>> Schedule::data_edges() const {
  std::unordered_map<int, std::size_t> producer;
  for (std::size_t s = 0; s < steps.size(); ++s)
    for (int o : steps[s].out) producer[o] = s;
  std::vector<std::vector<std::size_t>> edges(steps.size());
  for (std::size_t s = 0; s < steps.size(); ++s)
    for (int i : steps[s].in)
      if (auto p = producer.find(i); p != producer.end()) edges[s].push_back(p->second);
  return edges;
}

Schedule build_steps(const Program& program, const Fusion& fusion) {
  Schedule schedule;
  schedule.program = program;
  const std::vector<ir::NodeRef> order = ir::toposort(program.outputs);
  std::unordered_map<const ir::Node*, int> slot;
  auto slot_of = [&](const ir::NodeRef& n) {
    auto [it, inserted] = slot.try_emplace(n.get(), static_cast<int>(schedule.slots.size()));
    if (inserted) schedule.slots.push_back(n);
    return it->second;
  };

  for (std::size_t i = 0; i < program.inputs.size(); ++i)
    schedule.input_slots.emplace_back(slot_of(program.inputs[i]), i);
  for (const ir::NodeRef& n : order) {
    if (n->op == ir::OpCode::Shared) schedule.shared_slots.push_back(slot_of(n));
    if (n->op == ir::OpCode::Constant) slot_of(n);
  }

  std::vector<bool> cluster_done(fusion.clusters.size(), false);
  for (const ir::NodeRef& n : order) {
    const ir::OpInfo& info = ir::op_info(n->op);
    if (info.kind == ir::OpKind::Leaf) continue;
    Step step;
    if (auto c = fusion.cluster_of.find(n.get()); c != fusion.cluster_of.end()) {
      if (cluster_done[c->second]) continue;
      cluster_done[c->second] = true;
      const codegen::Cluster& cluster = fusion.clusters[c->second];
      step.kind = Step::Kind::Kernel;
      step.cluster = schedule.clusters.size();
      for (const ir::NodeRef& in : cluster.inputs) step.in.push_back(slot_of(in));
      for (const ir::NodeRef& out : cluster.outputs) step.out.push_back(slot_of(out));
      for (const ir::NodeRef& r : cluster.reductions) step.out.push_back(slot_of(r));
      schedule.clusters.push_back(cluster);
    } else {
      if (!info.native)
        throw std::logic_error(fmt::format("graphjit internal error: {} ({}) has no compiled implementation: "
                                           "op '{}' declares neither a native kernel nor fusion",
                                           n->label(), n->type.str(), info.name));
      step.kind = Step::Kind::Native;
      step.node = n.get();
      for (const ir::NodeRef& in : n->inputs) step.in.push_back(slot_of(in));
      step.out.push_back(slot_of(n));
    }
    step.inplace.assign(step.out.size(), -1);
    step.buffer.assign(step.out.size(), kNoBuffer);
    schedule.steps.push_back(std::move(step));
  }
  for (const ir::NodeRef& out : program.outputs) schedule.output_slots.push_back(slot_of(out));

  schedule.update_roots();
  schedule.after = schedule.data_edges();

  schedule.output_inplace.assign(program.outputs.size(), false);
  schedule.output_copy.assign(program.outputs.size(), false);
  return schedule;
}

}  // namespace graphjit::compiler::lower

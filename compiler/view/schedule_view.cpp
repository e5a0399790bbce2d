#include "compiler/view/schedule_view.hpp"

#include "compiler/ir/op_info.hpp"

#include <graphjit/runtime/shared_state.hpp>

#include <fmt/format.h>
#include <unordered_map>

namespace graphjit::view {

using compiler::lower::Schedule;
using compiler::lower::Step;

namespace {

std::string buffer_str(int buffer) {
  if (buffer == compiler::lower::kFresh) return "its own (returned to the caller)";
  if (buffer == compiler::lower::kNoBuffer) return "none (a view, written in place, or allocated by the op)";
  return fmt::format("pool buffer {}", buffer);
}

class ScheduleViewBuilder {
 public:
  ScheduleViewBuilder(const Schedule& s, const std::vector<StepTime>& times) : s_(s), times_(times) {}

  GraphView build(const std::vector<std::string>& output_labels, std::string title) {
    view_.title = std::move(title);
    for (std::size_t t = 0; t < s_.steps.size(); ++t) add_step(t);
    for (std::size_t o = 0; o < s_.program.outputs.size(); ++o) add_output(o, output_labels.at(o));
    return std::move(view_);
  }

 private:
  // The id of a value, adding leaves (and a kernel's compiled-in constants) when first read.
  const std::string& id_of(const ir::Node& n) {
    if (auto it = ids_.find(&n); it != ids_.end()) return it->second;
    return add_node(n);
  }

  const std::string& add_node(const ir::Node& n) {
    std::vector<std::string> inputs;  // first, so that they come before their reader
    if (ir::op_info(n.op).kind != ir::OpKind::Leaf)
      for (const ir::NodeRef& in : n.inputs) inputs.push_back(id_of(*in));
    const std::string id = fmt::format("n{}", ids_.size());
    const bool several = inputs.size() > 1;
    for (std::size_t i = 0; i < inputs.size(); ++i)
      view_.edges.push_back({inputs[i], id, (several ? fmt::format("{}: ", i) : "") + type_label(n.inputs[i]->type)});
    view_.nodes.push_back(view_node(n, id));
    return ids_.emplace(&n, id).first->second;
  }

  void add_step(std::size_t t) {
    const Step& step = s_.steps[t];
    std::vector<std::string> members;
    if (step.kind == Step::Kind::Kernel) {
      const auto& cluster = s_.clusters[step.cluster];
      for (const auto& n : cluster.nodes) members.push_back(add_node(*n));
      for (const auto& n : cluster.reductions) members.push_back(add_node(*n));
      const std::string name = cluster.name.empty() ? std::to_string(step.cluster) : "'" + cluster.name + "'";
      view_.groups.push_back({fmt::format("k{}", t), fmt::format("step {}: fused kernel {}", t, name), members});
    } else {
      members.push_back(add_node(*step.node));
      Node& node = view_.nodes.back();
      node.label += fmt::format("\nstep {}", t);
    }
    for (const std::string& id : members) {
      Node& node = find(id);
      node.details.emplace_back("step", std::to_string(t));
      if (t < times_.size() && times_[t].calls > 0) {
        node.details.emplace_back("time_ms", fmt::format("{:.4f}", 1e3 * times_[t].seconds / static_cast<double>(times_[t].calls)));
        node.details.emplace_back("share", fmt::format("{:.1f}%", 100 * times_[t].share));
        node.details.emplace_back("calls", std::to_string(times_[t].calls));
      }
    }
    for (std::size_t j = 0; j < step.out.size(); ++j) {
      const std::string& id = id_of(s_.node(step.out[j]));
      Node& node = find(id);
      if (step.inplace.size() <= j || step.inplace[j] < 0) {
        node.details.emplace_back("buffer", buffer_str(step.buffer.size() > j ? step.buffer[j] : compiler::lower::kNoBuffer));
      } else {
        const ir::Node& target = s_.node(step.inplace[j]);
        node.details.emplace_back("in_place_of", target.label());
        view_.edges.push_back({id, id_of(target), "overwrites", true});
      }
    }
  }

  void add_output(std::size_t o, const std::string& label) {
    const ir::Node& value = *s_.program.outputs[o];
    const bool update = o >= s_.program.num_user_outputs;
    Node n;
    n.kind = update ? Kind::update : Kind::output;
    n.id = update ? fmt::format("upd{}", o - s_.program.num_user_outputs) : fmt::format("out{}", o);
    n.label = label;
    n.op = kind_name(n.kind);
    n.type = value.type.str();
    n.where = ir::where_str(value.where);
    if (update && s_.output_inplace.size() > o && s_.output_inplace[o]) n.details.emplace_back("written", "in place");
    view_.edges.push_back({id_of(value), n.id, type_label(value.type)});
    if (update) {
      const auto& target = s_.program.update_targets[o - s_.program.num_user_outputs];
      for (int slot : s_.shared_slots)
        if (s_.node(slot).shared == target) view_.edges.push_back({n.id, id_of(s_.node(slot)), "writes", true});
    }
    view_.nodes.push_back(std::move(n));
  }

  Node& find(const std::string& id) {
    for (Node& n : view_.nodes)
      if (n.id == id) return n;
    throw std::logic_error("schedule view: no node " + id);
  }

  const Schedule& s_;
  const std::vector<StepTime>& times_;
  GraphView view_;
  std::unordered_map<const ir::Node*, std::string> ids_;
};

}  // namespace

GraphView view_of_schedule(const Schedule& schedule, const std::vector<std::string>& output_labels,
                           const std::vector<StepTime>& times, std::string title) {
  return ScheduleViewBuilder(schedule, times).build(output_labels, std::move(title));
}

}  // namespace graphjit::view

// The schedule as text, for debugprint(function) and the per-stage dumps.
#include "compiler/ir/op_info.hpp"
#include "compiler/ir/printer.hpp"
#include "compiler/lower/lower.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace graphjit::compiler::lower {

namespace {

std::string call(const ir::Node& node) {
  std::vector<std::string> args;
  for (const ir::NodeRef& in : node.inputs) args.push_back(in->label());
  return fmt::format("{}({})", node.head(), fmt::join(args, ", "));
}

std::string memory(const Schedule& s, const Step& step, std::size_t j) {
  const int out = step.out[j];
  std::string where;
  if (step.inplace[j] >= 0) {
    const ir::Node& target = s.node(step.inplace[j]);
    where = fmt::format(" [in place of {}]", target.label());
  } else if (s.root[out] != out) {
    where = fmt::format(" [view of {}]", s.node(s.root[out]).label());
  }
  if (step.inplace[j] >= 0) return where;
  if (step.buffer[j] >= 0) where += fmt::format(" -> buffer {}", step.buffer[j]);
  else if (step.buffer[j] == kFresh) where += " -> returned";
  return where;
}

void print_step(std::string& out, const Schedule& s, std::size_t t) {
  const Step& step = s.steps[t];
  if (step.kind == Step::Kind::Native) {
    const ir::Node& node = *step.node;
    out += fmt::format("{:>3} native {} = {} <{}>{}\n", t, node.label(), call(node), node.type.str(), memory(s, step, 0));
    return;
  }
  const codegen::Cluster& cluster = s.clusters[step.cluster];
  std::vector<std::string> inputs;
  for (const ir::NodeRef& in : cluster.inputs) inputs.push_back(in->label());
  out += fmt::format("{:>3} kernel {}({})\n", t, cluster.name, fmt::join(inputs, ", "));
  for (const ir::NodeRef& n : cluster.nodes) {
    const auto pos = std::find(cluster.outputs.begin(), cluster.outputs.end(), n);
    const std::string stored =
        pos == cluster.outputs.end() ? "" : memory(s, step, static_cast<std::size_t>(pos - cluster.outputs.begin()));
    out += fmt::format("      {} = {} <{}>{}\n", n->label(), call(*n), n->type.str(), stored);
  }
  for (std::size_t r = 0; r < cluster.reductions.size(); ++r) {
    const ir::Node& n = *cluster.reductions[r];
    out += fmt::format("      {} = {} <{}>{}\n", n.label(), call(n), n.type.str(),
                       memory(s, step, cluster.outputs.size() + r));
  }
}

}  // namespace

std::string print_schedule(const Schedule& s) {
  std::string out = fmt::format("schedule: {} steps, {} pooled buffers\n", s.steps.size(), s.num_buffers);
  for (std::size_t t = 0; t < s.steps.size(); ++t) print_step(out, s, t);
  const Program& p = s.program;
  for (std::size_t o = 0; o < s.output_slots.size(); ++o) {
    const std::string what = o < p.num_user_outputs
                                 ? fmt::format("output {}", o)
                                 : fmt::format("update of {}", p.update_targets[o - p.num_user_outputs]->name);
    std::string how = s.output_inplace[o] ? "written in place" : s.output_copy[o] ? "copied" : "returned as computed";
    out += fmt::format("{} = {} ({})\n", what, s.node(s.output_slots[o]).label(), how);
  }
  return out;
}

}  // namespace graphjit::compiler::lower

// Memory planning: interval colouring of step outputs over the step order.
#include "compiler/ir/op_info.hpp"
#include "compiler/lower/lower.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

namespace graphjit::compiler::lower {

namespace {

bool is_leaf(const ir::Node& n) { return ir::op_info(n.op).kind == ir::OpKind::Leaf; }

// Which returned values the call must copy: those living in a leaf's memory
// (an argument, a shared variable, a constant; except updates written in
// place, which are that memory by design) and those whose memory an earlier
// returned value already holds. Everything else is returned as computed. A
// borrowed output (Out(x, borrow=true), Program::borrowed) is returned as it
// is: no update of the same call overwrites it, since choose_inplace writes
// no shared variable whose memory a user output is.
void mark_copies(Schedule& s) {
  const std::vector<bool>& borrowed = s.program.borrowed;
  std::unordered_set<int> handed_out;
  for (std::size_t o = 0; o < s.output_slots.size(); ++o) {
    const int root = s.root[s.output_slots[o]];
    const bool in_leaf = is_leaf(s.node(root)) && !s.output_inplace[o];
    const bool first = handed_out.insert(root).second;
    const bool borrow = o < borrowed.size() && borrowed[o];
    s.output_copy[o] = !borrow && (in_leaf || !first);
  }
}

}  // namespace

// A step's output takes a buffer whose previous value (and every view of it)
// was last read by an earlier step: never one freed by the same step, since a
// kernel may not write over an input it is reading unless in-place choices
// arranged exactly that. Values the call returns (and whatever they are views
// of) get fresh memory every call, so they are handed out without a copy.
void plan_memory(Schedule& s, bool reuse) {
  constexpr std::size_t kForever = SIZE_MAX;
  std::vector<std::size_t> last_use(s.slots.size(), 0);
  for (std::size_t t = 0; t < s.steps.size(); ++t)
    for (int i : s.steps[t].in) last_use[s.root[i]] = std::max(last_use[s.root[i]], t);
  for (int o : s.output_slots) last_use[s.root[o]] = kForever;

  std::vector<int> holder;  // per buffer: the slot whose value it holds
  for (std::size_t t = 0; t < s.steps.size(); ++t) {
    Step& step = s.steps[t];
    step.buffer.assign(step.out.size(), kNoBuffer);
    const bool own_memory = step.kind == Step::Kind::Native && (ir::op_info(step.node->op).view_of >= 0 ||
                                                                ir::op_info(step.node->op).native.allocates);
    for (std::size_t j = 0; j < step.out.size(); ++j) {
      const int slot = step.out[j];
      if (own_memory) continue;
      if (last_use[s.root[slot]] == kForever) {
        step.buffer[j] = kFresh;  // for an in-place write, where the call cannot write in place
        continue;
      }
      if (step.inplace[j] >= 0) continue;
      auto free = reuse ? std::find_if(holder.begin(), holder.end(),
                                       [&](int h) { return h < 0 || last_use[s.root[h]] < t; })
                        : holder.end();
      if (free == holder.end()) free = holder.insert(holder.end(), -1);
      *free = slot;
      step.buffer[j] = static_cast<int>(free - holder.begin());
    }
  }
  s.num_buffers = holder.size();
  mark_copies(s);
}

}  // namespace graphjit::compiler::lower

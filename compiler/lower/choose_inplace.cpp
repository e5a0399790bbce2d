// In-place choices, Theano's destroy handler in small: which step outputs are
// written into memory that already holds a value, read from the ops'
// aliasing declarations.
#include "compiler/ir/op_info.hpp"
#include "compiler/lower/lower.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace graphjit::compiler::lower {

namespace {

// The inputs a step may overwrite with output `out`: for a native kernel,
// the input its op declares it destroys; for a fused kernel, any input of the
// output's type (each element is read before the same element is written).
bool may_overwrite(const Schedule& s, const Step& step, std::size_t k, int out) {
  if (step.kind == Step::Kind::Native) return ir::op_info(step.node->op).destroys == static_cast<int>(k);
  return s.node(step.in[k]).type == s.node(out).type;
}

struct Readers {
  std::unordered_map<int, int> count;  // slot -> how many step inputs read it
  explicit Readers(const Schedule& s) {
    for (const Step& st : s.steps)
      for (int i : st.in) ++count[i];
  }
  int operator[](int slot) const {
    auto it = count.find(slot);
    return it == count.end() ? 0 : it->second;
  }
};

// The step's input position it may overwrite with output j, if it reads
// `target` there and reads no other view of target's memory (through W.T or
// W[0] it would read elements it has already written).
int overwritten_input(const Schedule& s, const Step& step, std::size_t j, int target) {
  int position = -1;
  for (std::size_t k = 0; k < step.in.size(); ++k) {
    if (s.root[step.in[k]] != s.root[target]) continue;
    if (step.in[k] != target || !may_overwrite(s, step, k, step.out[j]) || position >= 0) return -1;
    position = static_cast<int>(k);
  }
  return position;
}

// Updates written into their shared variable's memory. The step that writes
// one is marked writes_shared: order_steps runs it after every step that is
// not such a write, so a call that fails fails before any shared variable
// has changed; it must therefore compute nothing another step reads. Among
// the writers, one that reads an old value another overwrites runs first.
void choose_update_writes(Schedule& s, const Readers& readers) {
  const Program& p = s.program;
  std::unordered_set<int> visible;  // memory the caller sees: user outputs
  for (std::size_t o = 0; o < p.num_user_outputs; ++o) visible.insert(s.root[s.output_slots[o]]);
  std::unordered_map<int, std::size_t> producer;
  for (std::size_t st = 0; st < s.steps.size(); ++st)
    for (int o : s.steps[st].out) producer[o] = st;

  std::vector<std::size_t> writers;
  for (std::size_t u = 0; u < p.update_targets.size(); ++u) {
    const std::size_t o = p.num_user_outputs + u;
    const int value = s.output_slots[o];
    auto target = std::find_if(s.shared_slots.begin(), s.shared_slots.end(),
                               [&](int slot) { return s.node(slot).shared == p.update_targets[u]; });
    auto prod = producer.find(value);
    if (target == s.shared_slots.end() || prod == producer.end() || visible.count(*target)) continue;
    if (std::count(s.output_slots.begin(), s.output_slots.end(), value) != 1) continue;
    Step& step = s.steps[prod->second];
    if (std::any_of(step.out.begin(), step.out.end(), [&](int out) { return readers[out] != 0; })) continue;
    const std::size_t j = static_cast<std::size_t>(std::find(step.out.begin(), step.out.end(), value) - step.out.begin());
    if (s.node(value).type != s.node(*target).type || overwritten_input(s, step, j, *target) < 0) continue;
    step.inplace[j] = *target;
    step.writes_shared = true;
    s.output_inplace[o] = true;
    if (writers.empty() || writers.back() != prod->second) writers.push_back(prod->second);
  }
  std::unordered_map<int, std::vector<std::size_t>> writers_of;  // memory root -> writers overwriting it
  for (std::size_t w : writers)
    for (int t : s.steps[w].inplace)
      if (t >= 0) writers_of[s.root[t]].push_back(w);
  for (std::size_t r : writers)
    for (int i : s.steps[r].in)
      if (auto it = writers_of.find(s.root[i]); it != writers_of.end())
        for (std::size_t w : it->second)
          if (w != r) s.after[w].push_back(r);
}

// A native kernel that destroys an input computed by a step for it alone
// (gemm's c: the broadcast bias of dot(x, W) + b) accumulates in that
// input's buffer instead of copying it.
void choose_accumulations(Schedule& s, const Readers& readers) {
  std::unordered_set<int> outputs(s.output_slots.begin(), s.output_slots.end());
  std::unordered_set<int> computed;
  for (const Step& st : s.steps)
    if (st.kind == Step::Kind::Kernel)
      computed.insert(st.out.begin(), st.out.end());
  for (Step& step : s.steps) {
    if (step.kind != Step::Kind::Native || step.inplace[0] >= 0) continue;
    const int k = ir::op_info(step.node->op).destroys;
    if (k < 0) continue;
    const int c = step.in[static_cast<std::size_t>(k)];
    if (!computed.count(c) || readers[c] != 1 || outputs.count(c) || s.root[c] != c) continue;
    if (s.node(c).type != s.node(step.out[0]).type) continue;
    if (std::count(step.in.begin(), step.in.end(), c) != 1) continue;
    step.inplace[0] = c;
  }
}

}  // namespace

void choose_inplace(Schedule& schedule) {
  const Readers readers(schedule);
  choose_update_writes(schedule, readers);
  choose_accumulations(schedule, readers);
  schedule.update_roots();
}

}  // namespace graphjit::compiler::lower

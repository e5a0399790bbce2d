#include "compiler/lower/lower.hpp"

#include <functional>
#include <queue>
#include <stdexcept>

namespace graphjit::compiler::lower {

namespace {

// Kahn's algorithm; ties keep the program's order, except that steps writing
// shared variables come after all others (nothing else reads what they
// compute, so they can always wait). Fewer than n steps come out when the
// edges form a cycle.
std::vector<std::size_t> topological_order(const std::vector<std::vector<std::size_t>>& after,
                                           const std::vector<Step>& steps) {
  const std::size_t n = after.size();
  std::vector<int> waiting(n, 0);
  std::vector<std::vector<std::size_t>> users(n);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t dep : after[s])
      if (dep != s) {
        ++waiting[s];
        users[dep].push_back(s);
      }
  using Key = std::pair<bool, std::size_t>;  // (writes a shared variable, program order)
  std::priority_queue<Key, std::vector<Key>, std::greater<>> ready;
  for (std::size_t s = 0; s < n; ++s)
    if (!waiting[s]) ready.push({steps[s].writes_shared, s});
  std::vector<std::size_t> order;
  while (!ready.empty()) {
    const std::size_t s = ready.top().second;
    ready.pop();
    order.push_back(s);
    for (std::size_t u : users[s])
      if (--waiting[u] == 0) ready.push({steps[u].writes_shared, u});
  }
  return order;
}

}  // namespace

void order_steps(Schedule& s) {
  std::vector<std::size_t> order = topological_order(s.after, s.steps);
  if (order.size() != s.steps.size()) {
    // Two in-place choices wait for each other (W <- f(V), V <- g(W)): do
    // without in-place writes rather than compute the wrong thing.
    for (Step& step : s.steps) {
      std::fill(step.inplace.begin(), step.inplace.end(), -1);
      step.writes_shared = false;
    }
    std::fill(s.output_inplace.begin(), s.output_inplace.end(), false);
    s.after = s.data_edges();
    s.update_roots();
    order = topological_order(s.after, s.steps);
    if (order.size() != s.steps.size())
      throw std::logic_error("graphjit internal error: the steps depend on each other in a cycle");
  }
  std::vector<std::size_t> position(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::vector<Step> steps;
  std::vector<std::vector<std::size_t>> after(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    steps.push_back(std::move(s.steps[order[i]]));
    for (std::size_t dep : s.after[order[i]]) after[i].push_back(position[dep]);
  }
  s.steps = std::move(steps);
  s.after = std::move(after);
}

}  // namespace graphjit::compiler::lower

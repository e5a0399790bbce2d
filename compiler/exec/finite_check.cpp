#include "compiler/exec/finite_check.hpp"

#include "compiler/ir/diagnostics.hpp"
#include "compiler/ir/graph.hpp"
#include "compiler/ir/op_info.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace graphjit::exec {

namespace {

template <class T, class F> void for_each_element(const Tensor& t, F&& f) {
  if (t.is_contiguous()) {
    const T* p = t.data<T>();
    for (std::int64_t i = 0, n = t.size(); i < n; ++i) f(static_cast<double>(p[i]));
  } else {
    for_each_index(t.shape(), [&](const std::vector<std::int64_t>& i) { f(t.get(i)); });
  }
}

template <class F> void for_each_float(const Tensor& t, F&& f) {
  if (t.dtype() == DType::float64) for_each_element<double>(t, f);
  else for_each_element<float>(t, f);
}

}  // namespace

ValueStats value_stats(const Tensor& t) {
  ValueStats s;
  s.count = t.size();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  std::int64_t finite = 0;
  auto visit = [&](double v) {
    if (std::isnan(v)) ++s.nan;
    else if (std::isinf(v)) ++s.inf;
    else lo = std::min(lo, v), hi = std::max(hi, v), sum += v, ++finite;
  };
  if (is_float(t.dtype())) for_each_float(t, visit);
  else for_each_index(t.shape(), [&](const std::vector<std::int64_t>& i) { visit(t.get(i)); });
  if (finite > 0) s.min = lo, s.max = hi, s.mean = sum / static_cast<double>(finite);
  return s;
}

std::string stats_str(const Tensor& t) {
  const ValueStats s = value_stats(t);
  return fmt::format("shape {} {}: min {:.6g}, max {:.6g}, mean {:.6g} (of the finite elements), {} nan, {} inf",
                     shape_str(t.shape()), dtype_name(t.dtype()), s.min, s.max, s.mean, s.nan, s.inf);
}

bool all_finite(const Tensor& t) {
  if (!is_float(t.dtype())) return true;
  bool finite = true;
  // No early exit: a branch per element would cost more than finishing the pass.
  for_each_float(t, [&](double v) { finite &= std::isfinite(v); });
  return finite;
}

const ir::Node* first_nonfinite(const ir::Node& root, const std::function<Tensor(const ir::Node&)>& value_of) {
  // toposort wants NodeRefs; the root's inputs are, and the root itself is
  // checked last.
  std::vector<ir::NodeRef> inputs(root.inputs.begin(), root.inputs.end());
  std::vector<const ir::Node*> order;
  for (const ir::NodeRef& n : ir::toposort(inputs)) order.push_back(n.get());
  order.push_back(&root);
  for (const ir::Node* n : order) {
    if (ir::op_info(n->op).kind == ir::OpKind::Leaf) continue;
    const Tensor v = value_of(*n);
    if (!v.defined() || all_finite(v)) continue;
    bool inputs_finite = true;
    for (const ir::NodeRef& in : n->inputs) {
      const Tensor iv = value_of(*in);
      inputs_finite = inputs_finite && (!iv.defined() || all_finite(iv));
    }
    if (inputs_finite) return n;
  }
  return nullptr;
}

std::string nonfinite_report(const ir::Node& node, const Tensor& value, const std::vector<Tensor>& inputs) {
  std::string text = fmt::format("{} = {} produced a non-finite value ({})", node.label(), ir::describe(node),
                                 stats_str(value));
  for (std::size_t i = 0; i < inputs.size() && i < node.inputs.size(); ++i)
    text += fmt::format("\n  input {} {}: {}", i, node.inputs[i]->label(),
                        inputs[i].defined() ? stats_str(inputs[i]) : std::string("(not computed)"));
  return text;
}

}  // namespace graphjit::exec

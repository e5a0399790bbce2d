#include "compiler/exec/debug_executor.hpp"

#include "compiler/eval/reference_evaluator.hpp"
#include "compiler/exec/finite_check.hpp"
#include "compiler/ir/diagnostics.hpp"

#include <graphjit/errors.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <unordered_map>

namespace graphjit::exec {

namespace {

eval::Values bind_inputs(const compiler::Program& p, const std::vector<Tensor>& args) {
  eval::Values v;
  for (std::size_t i = 0; i < args.size(); ++i) v.emplace(p.inputs[i].get(), args[i]);
  return v;
}

// Where `got` and `want` differ beyond rounding: "" when they agree. An
// element may differ by rtol of itself or of the value's largest magnitude
// (at least 1): a product or sum whose terms cancel keeps the rounding error
// of its large terms, in the JIT and the reference alike.
std::string difference(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape())
    return fmt::format("shape {} instead of {}", shape_str(got.shape()), shape_str(want.shape()));
  const double rtol = (got.dtype() == float32 || want.dtype() == float32) ? 1e-4 : 1e-7;
  double scale = 1;
  for_each_index(want.shape(), [&](const std::vector<std::int64_t>& i) {
    if (const double w = std::abs(want.get(i)); std::isfinite(w)) scale = std::max(scale, w);
  });
  std::string found;
  for_each_index(got.shape(), [&](const std::vector<std::int64_t>& i) {
    if (!found.empty()) return;
    const double g = got.get(i), w = want.get(i);
    const bool same = (std::isnan(g) && std::isnan(w)) || g == w || std::abs(g - w) <= rtol * (scale + std::abs(w));
    if (!same) found = fmt::format("{} instead of {} at index {}", g, w, shape_str(i));
  });
  return found;
}

}  // namespace

DebugExecutor::DebugExecutor(compiler::Program original, std::shared_ptr<const compiler::lower::Schedule> schedule,
                             Watch watch)
    : original_(std::move(original)), optimized_(schedule->program), jit_(std::move(schedule), watch) {}

std::vector<Tensor> DebugExecutor::run(const std::vector<Tensor>& args) {
  // References first: the JIT may update shared values in place. Node values
  // are copied, since some are views of shared values.
  std::unordered_map<const ir::Node*, Tensor> reference;
  eval::evaluate(optimized_.outputs, bind_inputs(optimized_, args),
                 [&](const ir::Node& n, const Tensor& v) { reference.emplace(&n, v.copy()); });
  std::vector<Tensor> expected = eval::evaluate(original_.outputs, bind_inputs(original_, args));
  for (Tensor& t : expected) t = t.copy();

  std::vector<Tensor> results = jit_.run(args, [&](const ir::Node& node, const Tensor& value) {
    std::string diff = difference(value, reference.at(&node));
    if (!diff.empty())
      throw FunctionError(fmt::format("debug mode: the compiled code computes {} = {}: {} (the reference evaluator "
                                      "disagrees)",
                                      node.label(), ir::describe(node), diff));
    if (!all_finite(value)) {
      // The reference values of every node locate the op where it began,
      // inside a fused kernel too.
      auto value_of = [&](const ir::Node& n) -> Tensor {
        if (auto it = reference.find(&n); it != reference.end()) return it->second;
        return n.op == ir::OpCode::Constant ? n.value : Tensor();
      };
      const ir::Node* origin = first_nonfinite(node, value_of);
      const ir::Node& culprit = origin ? *origin : node;
      std::vector<Tensor> inputs;
      for (const ir::NodeRef& in : culprit.inputs) inputs.push_back(value_of(*in));
      throw FunctionError(fmt::format("debug mode: {}{}", nonfinite_report(culprit, value_of(culprit), inputs),
                                      origin ? "" : "\n  (its inputs were not finite already: they came in as "
                                                    "arguments, shared variables or constants)"));
    }
  });
  for (std::size_t o = 0; o < results.size(); ++o) {
    std::string diff = difference(results[o], expected[o]);
    if (!diff.empty())
      throw FunctionError(fmt::format("debug mode: {} {} differs from the unoptimized graph: {} (a rewrite changed "
                                      "the result; exclude passes by name to find which)",
                                      o < original_.num_user_outputs ? "output" : "update value", o, diff));
  }
  return results;
}

}  // namespace graphjit::exec

// Finding where a nan or an inf first appears: the NaN guard
// (FunctionOptions::nan_guard) and Mode::debug's finiteness check (Theano's
// NanGuardMode and DebugMode) both report the first op whose result is not
// finite, with the statistics of its inputs.
#pragma once

#include "compiler/ir/node.hpp"

#include <graphjit/runtime/tensor.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace graphjit::exec {

// Summary of a value: what an error about a nan shows of each input.
struct ValueStats {
  std::int64_t count = 0, nan = 0, inf = 0;
  double min = 0, max = 0, mean = 0;  // over the finite elements (0 if there are none)
};
ValueStats value_stats(const Tensor& t);
// "shape (3, 4) float64: min -1, max 2.5, mean 0.25, 1 nan, 0 inf"
std::string stats_str(const Tensor& t);

// Whether every element is a number (integers and bools always are).
bool all_finite(const Tensor& t);

// The first node, in `root`'s ancestors from the leaves down, that is
// computed (not a leaf) from finite inputs and whose value is not finite;
// `value_of` gives each node's value. Null if there is none (the non-finite
// value came in as an argument, a shared variable or a constant).
const ir::Node* first_nonfinite(const ir::Node& root, const std::function<Tensor(const ir::Node&)>& value_of);

// "log(x) built at model.cpp:12 produced nan (shape (3,) float64: ...)\n  input 0 x: ..."
std::string nonfinite_report(const ir::Node& node, const Tensor& value, const std::vector<Tensor>& inputs);

}  // namespace graphjit::exec

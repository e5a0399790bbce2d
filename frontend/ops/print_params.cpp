// What debugprint shows of the parameters the op-library ops keep in
// attrs.ints (OpInfo::print_params), in Theano's manner: tensordot's axes as
// numpy's [[a axes], [b axes]], the axis of the cumulative, sort and
// repeat/split ops, eigh's output, solve_triangular's flags. Without these,
// two nodes differing only in their parameters print alike.
#include "frontend/ops/op_support.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace graphjit::ir {

namespace {

std::int64_t int_at(const Node& node, std::size_t i) { return i < node.attrs.ints.size() ? node.attrs.ints[i] : 0; }

// attrs.ints {batched, k, a's k axes, b's k axes}.
std::string tensordot_params(const Node& node) {
  const auto& f = node.attrs.ints;
  const auto k = static_cast<std::size_t>(int_at(node, 1));
  if (f.size() != 2 + 2 * k) return "";
  const std::vector<std::int64_t> a(f.begin() + 2, f.begin() + 2 + static_cast<std::ptrdiff_t>(k)),
      b(f.begin() + 2 + static_cast<std::ptrdiff_t>(k), f.end());
  return fmt::format("{}axes=[[{}],[{}]]", int_at(node, 0) ? "batched, " : "", fmt::join(a, ","), fmt::join(b, ","));
}

// attrs.ints {axis, reverse}.
std::string cumulative_params(const Node& node) {
  return fmt::format("axis={}{}", int_at(node, 0), int_at(node, 1) ? ", reverse" : "");
}

std::string axis_params(const Node& node) { return fmt::format("axis={}", int_at(node, 0)); }

// attrs.ints {axis, inverse}.
std::string permute_params(const Node& node) {
  return fmt::format("axis={}{}", int_at(node, 0), int_at(node, 1) ? ", inverse" : "");
}

// attrs.ints {axis, n_splits, part}.
std::string split_params(const Node& node) {
  return fmt::format("axis={}, part {} of {}", int_at(node, 0), int_at(node, 2), int_at(node, 1));
}

// attrs.ints: 1 where a dim is declared broadcastable.
std::string rebroadcast_params(const Node& node) {
  std::vector<std::string> dims;
  for (std::int64_t b : node.attrs.ints) dims.push_back(b ? "True" : "False");
  return fmt::format("broadcastable=({})", fmt::join(dims, ", "));
}

std::string eigh_params(const Node& node) { return int_at(node, 0) == 0 ? "eigenvalues" : "eigenvectors"; }

// attrs.ints {lower, trans, unit_diagonal}.
std::string solve_triangular_params(const Node& node) {
  return fmt::format("lower={}, trans={}, unit_diagonal={}", int_at(node, 0) ? "True" : "False", int_at(node, 1),
                     int_at(node, 2) ? "True" : "False");
}

}  // namespace

// Runs after the families have defined these ops (op_library.cpp).
void register_print_params() {
  define_op(OpCode::Tensordot).print_params = tensordot_params;
  define_op(OpCode::CumSum).print_params = cumulative_params;
  define_op(OpCode::CumProd).print_params = cumulative_params;
  define_op(OpCode::Sort).print_params = axis_params;
  define_op(OpCode::Argsort).print_params = axis_params;
  define_op(OpCode::Repeat).print_params = axis_params;
  define_op(OpCode::PermuteAlongAxis).print_params = permute_params;
  define_op(OpCode::SplitPart).print_params = split_params;
  define_op(OpCode::Rebroadcast).print_params = rebroadcast_params;
  define_op(OpCode::Eigh).print_params = eigh_params;
  define_op(OpCode::SolveTriangular).print_params = solve_triangular_params;
}

}  // namespace graphjit::ir

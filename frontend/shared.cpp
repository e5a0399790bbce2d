#include <graphjit/errors.hpp>
#include <graphjit/shared.hpp>

#include "compiler/ir/node.hpp"

#include <fmt/format.h>

#include <mutex>
#include <utility>

namespace graphjit {

namespace {
void check_fits(const std::string& name, const ir::Type& type, const Tensor& value) {
  if (!value.defined()) throw TypeError(fmt::format("shared variable '{}': the value is an undefined tensor", name));
  if (value.dtype() != type.dtype || value.ndim() != type.ndim())
    throw TypeError(fmt::format("shared variable '{}' has type {}; set_value got a {} tensor of shape {}; "
                                "convert it first (Tensor::astype) or make a new shared variable",
                                name, type.str(), dtype_name(value.dtype()), shape_str(value.shape())));
  for (int d = 0; d < type.ndim(); ++d)
    if (type.broadcastable[d] && value.shape(d) != 1)
      throw TypeError(fmt::format("shared variable '{}' has type {}: dim {} must have length 1, got shape {}", name,
                                  type.str(), d, shape_str(value.shape())));
}
}  // namespace

SharedVariable shared(const Tensor& value, std::string name, bool borrow, std::source_location where) {
  if (!value.defined()) throw TypeError(fmt::format("shared('{}'): the value is an undefined tensor", name));
  return shared(value, std::move(name), borrow, std::vector<bool>(static_cast<std::size_t>(value.ndim()), false), where);
}

SharedVariable shared(const Tensor& value, std::string name, bool borrow, std::vector<bool> broadcastable,
                      std::source_location where) {
  if (!value.defined()) throw TypeError(fmt::format("shared('{}'): the value is an undefined tensor", name));
  if (static_cast<int>(broadcastable.size()) != value.ndim())
    throw TypeError(fmt::format("shared('{}') at {}: the broadcastable pattern has {} entries but the value has {} "
                                "dims (shape {}); give one per dim",
                                name, ir::where_str(where), broadcastable.size(), value.ndim(), shape_str(value.shape())));
  ir::Type type{value.dtype(), std::move(broadcastable)};
  check_fits(name, type, value);
  auto state = std::make_shared<SharedState>();
  state->value = borrow ? value : value.copy();
  state->name = name;
  auto node = ir::make_shared(state, std::move(type), std::move(name), where);
  return SharedVariable(std::move(node), std::move(state));
}

SharedVariable shared(double value, std::string name, std::source_location where) {
  return shared(Tensor::scalar(value), std::move(name), /*borrow=*/true, where);
}
SharedVariable shared(std::int64_t value, std::string name, std::source_location where) {
  return shared(Tensor::scalar(value), std::move(name), /*borrow=*/true, where);
}
SharedVariable shared(const std::vector<double>& values, std::string name, std::source_location where) {
  return shared(Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())}), std::move(name),
                /*borrow=*/true, where);
}

Tensor SharedVariable::get_value(bool borrow) const {
  std::shared_lock lock(state_->mutex);
  return borrow ? state_->value : state_->value.copy();
}

void SharedVariable::set_value(const Tensor& value, bool borrow) {
  check_fits(name(), node()->type, value);
  Tensor stored = borrow ? value : value.copy();
  Tensor old;  // released after the lock, so freeing a large value does not hold up calls
  std::unique_lock lock(state_->mutex);
  old = std::exchange(state_->value, std::move(stored));
}

}  // namespace graphjit

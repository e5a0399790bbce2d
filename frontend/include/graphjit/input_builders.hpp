// More of Theano's input builders (issue 8): row and col, dtypes by name
// (`T::matrix("x", "float32")`), the typed singulars (`T::dmatrix`,
// `T::ivector`, `T::lscalar`, ...) and plurals that make several at once
// (`auto [a, b] = T::dmatrices("a", "b")`). Prefixes as in Theano: d float64,
// f float32, i int32, l int64, b int8; none: floatX. Included by tensor.hpp.
#pragma once

#include <graphjit/runtime/config.hpp>
#include <graphjit/variable.hpp>

#include <array>
#include <source_location>
#include <string>

namespace graphjit::tensor {

using SL = std::source_location;

Variable tensor(DType dtype, std::vector<bool> broadcastable, std::string name, SL where);

// A matrix with one row / one column (its broadcastable dim).
Variable row(std::string name = "", DType dtype = config().floatX, SL where = SL::current());
Variable col(std::string name = "", DType dtype = config().floatX, SL where = SL::current());

// The builders with the dtype given by name ("float32", "int64", ...).
Variable scalar(std::string name, const char* dtype, SL where = SL::current());
Variable vector(std::string name, const char* dtype, SL where = SL::current());
Variable matrix(std::string name, const char* dtype, SL where = SL::current());
Variable row(std::string name, const char* dtype, SL where = SL::current());
Variable col(std::string name, const char* dtype, SL where = SL::current());
Variable tensor3(std::string name, const char* dtype, SL where = SL::current());
Variable tensor4(std::string name, const char* dtype, SL where = SL::current());

Variable scalar(std::string name, DType dtype, SL where);
Variable vector(std::string name, DType dtype, SL where);
Variable matrix(std::string name, DType dtype, SL where);
Variable tensor3(std::string name, DType dtype, SL where);
Variable tensor4(std::string name, DType dtype, SL where);

#define GRAPHJIT_TYPED_INPUTS(prefix, dtype_value)                                                              \
  inline Variable prefix##scalar(std::string name = "", SL where = SL::current()) {                            \
    return scalar(std::move(name), dtype_value, where);                                                          \
  }                                                                                                              \
  inline Variable prefix##vector(std::string name = "", SL where = SL::current()) {                            \
    return vector(std::move(name), dtype_value, where);                                                          \
  }                                                                                                              \
  inline Variable prefix##matrix(std::string name = "", SL where = SL::current()) {                            \
    return matrix(std::move(name), dtype_value, where);                                                          \
  }                                                                                                              \
  inline Variable prefix##row(std::string name = "", SL where = SL::current()) {                               \
    return row(std::move(name), dtype_value, where);                                                             \
  }                                                                                                              \
  inline Variable prefix##col(std::string name = "", SL where = SL::current()) {                               \
    return col(std::move(name), dtype_value, where);                                                             \
  }                                                                                                              \
  inline Variable prefix##tensor3(std::string name = "", SL where = SL::current()) {                           \
    return tensor3(std::move(name), dtype_value, where);                                                         \
  }                                                                                                              \
  inline Variable prefix##tensor4(std::string name = "", SL where = SL::current()) {                           \
    return tensor4(std::move(name), dtype_value, where);                                                         \
  }                                                                                                              \
  template <class... Names> std::array<Variable, sizeof...(Names)> prefix##scalars(const Names&... names) {   \
    return {scalar(std::string(names), dtype_value, SL::current())...};                                         \
  }                                                                                                              \
  template <class... Names> std::array<Variable, sizeof...(Names)> prefix##vectors(const Names&... names) {   \
    return {vector(std::string(names), dtype_value, SL::current())...};                                         \
  }                                                                                                              \
  template <class... Names> std::array<Variable, sizeof...(Names)> prefix##matrices(const Names&... names) {  \
    return {matrix(std::string(names), dtype_value, SL::current())...};                                         \
  }                                                                                                              \
  template <class... Names> std::array<Variable, sizeof...(Names)> prefix##rows(const Names&... names) {      \
    return {row(std::string(names), dtype_value, SL::current())...};                                            \
  }                                                                                                              \
  template <class... Names> std::array<Variable, sizeof...(Names)> prefix##cols(const Names&... names) {      \
    return {col(std::string(names), dtype_value, SL::current())...};                                            \
  }
GRAPHJIT_TYPED_INPUTS(d, float64)
GRAPHJIT_TYPED_INPUTS(f, float32)
GRAPHJIT_TYPED_INPUTS(i, int32)
GRAPHJIT_TYPED_INPUTS(l, int64)
GRAPHJIT_TYPED_INPUTS(b, int8)
#undef GRAPHJIT_TYPED_INPUTS

// The plurals in floatX.
template <class... Names> std::array<Variable, sizeof...(Names)> scalars(const Names&... names) {
  return {scalar(std::string(names), config().floatX, SL::current())...};
}
template <class... Names> std::array<Variable, sizeof...(Names)> vectors(const Names&... names) {
  return {vector(std::string(names), config().floatX, SL::current())...};
}
template <class... Names> std::array<Variable, sizeof...(Names)> matrices(const Names&... names) {
  return {matrix(std::string(names), config().floatX, SL::current())...};
}

}  // namespace graphjit::tensor

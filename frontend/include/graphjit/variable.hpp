// Symbolic variables: what users build graphs from (Theano's TensorVariable).
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace graphjit {

namespace ir {
struct Node;
}

// A C++ number used in an expression (`0.3 * W`, `index + 1`).
template <class T>
concept Number = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

class Slice;
class Index;
struct Operand;

// The axes a reduction runs over, as Theano takes them: one axis (`1`), a
// list (`{0, 1}`), or all of them (std::nullopt, the default).
class Axes : public std::optional<std::vector<int>> {
 public:
  Axes() = default;
  Axes(std::nullopt_t) {}
  Axes(int axis) : optional(std::vector<int>{axis}) {}
  Axes(std::initializer_list<int> axes) : optional(std::vector<int>(axes)) {}
  Axes(std::vector<int> axes) : optional(std::move(axes)) {}
  Axes(std::optional<std::vector<int>> axes) : optional(std::move(axes)) {}
};

class Variable {
 public:
  Variable() = default;  // undefined
  explicit Variable(std::shared_ptr<const ir::Node> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const std::shared_ptr<const ir::Node>& node() const { return node_; }
  const std::string& name() const;
  DType dtype() const;
  int ndim() const;
  std::vector<bool> broadcastable() const;
  std::string type_str() const;  // "TensorType(float64, matrix)"
  std::string label() const;     // the name, or "op.id" for an unnamed result
  // Names the variable (Theano's `v.name = "loss"`): every graph holding it,
  // its dumps, pictures and error messages show the name. Returns the variable.
  Variable set_name(std::string name) const;

  // Indexing as in numpy/Theano: x[i], x[slice(a, b)], x[{slice(a, b), 3}],
  // x[{arange(n), y}] (advanced integer-array indexing). operator[] takes one
  // argument, so the user's line comes from the Index (like Operand).
  Variable operator[](const Index& index) const;
  Variable operator[](std::initializer_list<Index> indices) const;

  // Every method records the user's line (the defaulted last argument), as
  // the free functions in graphjit::tensor do.
  using SL = std::source_location;
  Variable T(SL where = SL::current()) const;  // transpose
  Variable dimshuffle(std::vector<std::int64_t> pattern, SL where = SL::current()) const;  // -1 stands for 'x'
  Variable reshape(std::vector<Variable> shape, SL where = SL::current()) const;
  Variable reshape(std::vector<std::int64_t> shape, SL where = SL::current()) const;
  Variable flatten(int outdim = 1, SL where = SL::current()) const;
  Variable shape(SL where = SL::current()) const;            // int64 vector
  Variable shape(int axis, SL where = SL::current()) const;  // int64 scalar
  Variable astype(DType dtype, SL where = SL::current()) const;

  // Reductions as methods, like Theano's x.sum(axis=...).
  Variable sum(Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  Variable mean(Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  Variable prod(Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  Variable max(Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  Variable min(Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  Variable argmax(std::optional<int> axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  Variable argmin(std::optional<int> axis = std::nullopt, bool keepdims = false, SL where = SL::current()) const;
  // Variance and standard deviation; ddof = 1 divides by n - 1 (numpy's ddof).
  Variable var(Axes axis = std::nullopt, bool keepdims = false, int ddof = 0, SL where = SL::current()) const;
  Variable std(Axes axis = std::nullopt, bool keepdims = false, int ddof = 0, SL where = SL::current()) const;
  // Elementwise methods: clip(lo, hi) takes numbers or variables; round is half to even.
  Variable clip(const Operand& lo, const Operand& hi, SL where = SL::current()) const;
  Variable round(SL where = SL::current()) const;
  // Theano's x.eval({x: value}): compiles the variable (reference-checked
  // fast_run, cached per graph is not attempted) and returns its value.
  Tensor eval(const std::vector<std::pair<Variable, Tensor>>& inputs = {}, SL where = SL::current()) const;
  // y.name("h"): names the variable like set_name; returns it.
  Variable name(std::string new_name) const { return set_name(std::move(new_name)); }

 private:
  std::shared_ptr<const ir::Node> node_;
};

// A bound of a slice: a symbolic integer scalar or a C++ integer.
using Bound = std::optional<Variable>;

class Slice {
 public:
  Slice() = default;  // ':'
  Slice(Bound start, Bound stop, Bound step = std::nullopt) : start(std::move(start)), stop(std::move(stop)), step(std::move(step)) {}
  Bound start, stop, step;
};

// numpy's newaxis (Theano's None in an index): `x[{T::slice(), newaxis}]`
// inserts a broadcastable dim of length 1 there.
struct NewAxis {};
inline constexpr NewAxis newaxis{};

// One entry of an index expression: an integer (scalar variable or C++ int),
// a slice, an integer array variable (advanced indexing), or newaxis.
class Index {
 public:
  Index(const Variable& v, std::source_location where = std::source_location::current()) : value_(v), where_(where) {}
  Index(const Slice& s, std::source_location where = std::source_location::current()) : value_(s), where_(where) {}
  // A float index does not compile.
  template <std::integral T>
  Index(T i, std::source_location where = std::source_location::current())
      : value_(static_cast<std::int64_t>(i)), where_(where) {}
  Index(NewAxis, std::source_location where = std::source_location::current()) : value_(NewAxis{}), where_(where) {}
  const std::variant<Variable, Slice, std::int64_t, NewAxis>& value() const { return value_; }
  const std::source_location& where() const { return where_; }  // the user's indexing expression

 private:
  std::variant<Variable, Slice, std::int64_t, NewAxis> value_;
  std::source_location where_;
};

// A C++ number as a symbolic constant of the given dtype. Integers are stored
// exactly: an int64 above 2^53 does not pass through double.
Variable constant(double value, DType dtype, std::source_location where = std::source_location::current());
Variable constant(std::int64_t value, DType dtype, std::source_location where = std::source_location::current());
template <std::integral I>
  requires(!std::is_same_v<I, std::int64_t> && !std::is_same_v<I, bool>)
Variable constant(I value, DType dtype, std::source_location where = std::source_location::current()) {
  return constant(static_cast<std::int64_t>(value), dtype, where);
}
Variable constant(const Tensor& value, std::string name = "", std::source_location where = std::source_location::current());

// One side of an operator: a variable or a C++ number, and where the user's
// expression is (operators cannot take a source_location argument, but the
// conversion to Operand can). Numbers follow Theano's autocasting: an integer
// literal takes the other operand's dtype; a floating literal takes it when
// that is a float, else float64.
struct Operand {
  Operand(const Variable& v, std::source_location where = std::source_location::current()) : var(v), where(where) {}
  template <Number N>
  Operand(N n, std::source_location where = std::source_location::current())
      : number(static_cast<double>(n)), integer_literal(std::is_integral_v<N>), where(where) {
    if constexpr (std::is_integral_v<N>)
      if (std::is_signed_v<N> || static_cast<std::uint64_t>(n) <= static_cast<std::uint64_t>(INT64_MAX))
        integer = static_cast<std::int64_t>(n);
  }
  Variable var;  // undefined for a number
  double number = 0;
  // The exact value of an integer literal that fits int64 (`number` rounds above 2^53).
  std::optional<std::int64_t> integer;
  bool integer_literal = false;
  std::source_location where;
};
// Both operands as variables, numbers turned into constants by the rule above.
std::pair<Variable, Variable> operand_pair(const Operand& a, const Operand& b);
// A number operand as a constant of `dtype` (exact for integer literals).
Variable operand_constant(const Operand& number, DType dtype);

Variable operator+(const Operand& a, const Operand& b);
Variable operator-(const Operand& a, const Operand& b);
Variable operator*(const Operand& a, const Operand& b);
Variable operator/(const Operand& a, const Operand& b);
Variable operator%(const Operand& a, const Operand& b);
Variable operator<(const Operand& a, const Operand& b);
Variable operator<=(const Operand& a, const Operand& b);
Variable operator>(const Operand& a, const Operand& b);
Variable operator>=(const Operand& a, const Operand& b);
Variable operator&(const Operand& a, const Operand& b);
Variable operator|(const Operand& a, const Operand& b);
Variable operator^(const Operand& a, const Operand& b);
Variable operator-(const Operand& a);
Variable operator!(const Operand& a);

}  // namespace graphjit

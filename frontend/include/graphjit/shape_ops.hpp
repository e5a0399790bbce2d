// Shape and construction ops (issue 8): Theano's alloc, zeros, ones, full,
// eye; squeeze, transpose(axes), reshape to a shape vector, newaxis; repeat,
// tile, split, roll; take; addbroadcast, unbroadcast, patternbroadcast.
#pragma once

#include <graphjit/runtime/config.hpp>
#include <graphjit/variable.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <source_location>
#include <vector>

namespace graphjit::tensor {

using SL = std::source_location;
using graphjit::newaxis;

// A shape the ways Theano takes one: lengths as C++ integers or integer
// scalar variables (`{2, n}`), or an integer vector variable (`x.shape()`).
// A vector's length must be known when the graph is built: x.shape() and
// constants know it; for other vectors pass it as `ndim`.
class SymbolicShape {
 public:
  SymbolicShape(std::initializer_list<Operand> lengths) : lengths_(lengths) {}
  SymbolicShape(std::vector<Operand> lengths) : lengths_(std::move(lengths)) {}
  SymbolicShape(const std::vector<std::int64_t>& lengths) : lengths_(lengths.begin(), lengths.end()) {}
  SymbolicShape(const Variable& vector, int ndim = -1) : vector_(vector), ndim_(ndim) {}
  // One int64 scalar per dim (a broadcastable dim of x.shape() is the constant 1,
  // so results keep x's broadcastable pattern). `fn` names the caller in errors.
  std::vector<Variable> lengths(const char* fn, SL where) const;

 private:
  std::vector<Operand> lengths_;
  Variable vector_;
  int ndim_ = -1;
};

// --- creation ---------------------------------------------------------------------------------
// T.alloc(value, *shape): value (a number, a scalar or a tensor) broadcast to
// `shape`; a tensor value's dims line up with the trailing dims of the shape.
// A C++ integer value is int64, a floating one config().floatX.
Variable alloc(const Operand& value, const SymbolicShape& shape, SL where = SL::current());
Variable zeros(const SymbolicShape& shape, DType dtype = config().floatX, SL where = SL::current());
Variable ones(const SymbolicShape& shape, DType dtype = config().floatX, SL where = SL::current());
// T.full(shape, fill_value, dtype): alloc of the value, cast to dtype when one is given.
Variable full(const SymbolicShape& shape, const Operand& fill_value, std::optional<DType> dtype = std::nullopt,
              SL where = SL::current());
// T.eye(n, m=n, k=0): ones on the k-th diagonal (k > 0 above the main one).
Variable eye(const Operand& n, DType dtype = config().floatX, SL where = SL::current());
Variable eye(const Operand& n, const Operand& m, const Operand& k = 0, DType dtype = config().floatX,
             SL where = SL::current());

// --- axes ---------------------------------------------------------------------------------------
// T.squeeze(x): drops every broadcastable dim; with axes, drops those (a dim
// not broadcastable in x's type is checked to have length 1 when the function runs).
Variable squeeze(const Variable& x, Axes axes = std::nullopt, SL where = SL::current());
// T.transpose(x, axes): the dims in the order `axes` (a permutation; negative counts from the end).
Variable transpose(const Variable& x, const std::vector<std::int64_t>& axes, SL where = SL::current());
// T.reshape(x, shape, ndim): to an integer vector of lengths computed at run
// time (one -1 is inferred); ndim is needed when the vector's length is not
// known from the graph.
Variable reshape(const Variable& x, const Variable& shape, int ndim = -1, SL where = SL::current());

// --- repetition and splitting ---------------------------------------------------------------------
// T.repeat(x, repeats, axis): each element repeated `repeats` times (an
// integer, a scalar, or a vector with one count per element along the axis);
// without an axis, x is flattened first.
Variable repeat(const Variable& x, const Operand& repeats, std::optional<int> axis = std::nullopt,
                SL where = SL::current());
// T.tile(x, reps, ndim): x repeated reps[i] times along dim i (numpy's tile:
// the shorter of x's dims and reps is padded with leading 1s). ndim, when
// given, is the output's number of dims (at least x's and reps'): both are
// padded to it with leading 1s.
Variable tile(const Variable& x, const SymbolicShape& reps, std::optional<int> ndim = std::nullopt,
              SL where = SL::current());
// Theano's tile of a symbolic integer vector of counts, whose length is known
// only when the function runs (at most ndim; padded in front with 1s).
Variable tile(const Variable& x, const Variable& reps, int ndim, SL where = SL::current());
// T.split(x, splits_size, n_splits, axis): n_splits consecutive parts of x
// along the axis with the lengths in `splits` (an integer vector, which must
// sum to x's length along the axis when the function runs). Each part is a view.
std::vector<Variable> split(const Variable& x, const Variable& splits, int n_splits, int axis = 0,
                            SL where = SL::current());
std::vector<Variable> split(const Variable& x, const std::vector<std::int64_t>& splits, int axis = 0,
                            SL where = SL::current());
// T.roll(x, shift, axis): elements shifted by `shift` along the axis, wrapping
// around; without an axis, over the flattened x (keeping its shape).
Variable roll(const Variable& x, const Operand& shift, std::optional<int> axis = std::nullopt, SL where = SL::current());

// --- selection --------------------------------------------------------------------------------------
// What take does with an index out of range (numpy's and Theano's `mode`):
// raise an error (negative indices count from the end), wrap it around
// (index mod length, so -1 is the last), or clip it to [0, length - 1] (so
// every negative index is 0, as numpy's clip mode).
enum class TakeMode { raise, wrap, clip };
// T.take(x, indices, axis, mode): x's elements at `indices` along the axis;
// without an axis, of the flattened x.
Variable take(const Variable& x, const Variable& indices, std::optional<int> axis = std::nullopt,
              TakeMode mode = TakeMode::raise, SL where = SL::current());

// --- broadcast patterns -------------------------------------------------------------------------------
// The same value with dims declared broadcastable (addbroadcast), not
// broadcastable (unbroadcast) or as `pattern` (patternbroadcast). A dim
// declared broadcastable must have length 1 when the function runs, or the
// call fails naming the dim and the shape.
Variable addbroadcast(const Variable& x, Axes axes, SL where = SL::current());
Variable unbroadcast(const Variable& x, Axes axes, SL where = SL::current());
Variable patternbroadcast(const Variable& x, const std::vector<bool>& pattern, SL where = SL::current());

}  // namespace graphjit::tensor

// graphjit::tensor: the theano.tensor namespace. Users write
//   namespace T = graphjit::tensor;
// and then T::matrix("x"), T::tanh(T::dot(x, W) + b), T::mean(...), ...
// Every function records where the user called it (the last, defaulted
// argument), so errors can point at the user's line.
#pragma once

#include <graphjit/runtime/config.hpp>
#include <graphjit/shared.hpp>
#include <graphjit/variable.hpp>

#include <optional>
#include <source_location>
#include <string>
#include <vector>

namespace graphjit::tensor {

using SL = std::source_location;
using graphjit::Axes;  // 1, {0, 1}, or nullopt: all axes

// Symbolic inputs (T.scalar, T.vector, T.matrix, T.tensor3, T.tensor4, T.TensorType(...)()).
// Their dtype defaults to config().floatX (flag floatX), float64 unless set.
Variable scalar(std::string name = "", DType dtype = config().floatX, SL where = SL::current());
Variable vector(std::string name = "", DType dtype = config().floatX, SL where = SL::current());
Variable matrix(std::string name = "", DType dtype = config().floatX, SL where = SL::current());
Variable tensor3(std::string name = "", DType dtype = config().floatX, SL where = SL::current());
Variable tensor4(std::string name = "", DType dtype = config().floatX, SL where = SL::current());
Variable tensor(DType dtype, std::vector<bool> broadcastable, std::string name = "", SL where = SL::current());

// Elementwise arithmetic (the operators + - * / % call these).
Variable add(const Variable& a, const Variable& b, SL where = SL::current());
Variable sub(const Variable& a, const Variable& b, SL where = SL::current());
Variable mul(const Variable& a, const Variable& b, SL where = SL::current());
Variable true_div(const Variable& a, const Variable& b, SL where = SL::current());
Variable int_div(const Variable& a, const Variable& b, SL where = SL::current());
Variable mod(const Variable& a, const Variable& b, SL where = SL::current());
Variable pow(const Variable& a, const Variable& b, SL where = SL::current());
Variable maximum(const Variable& a, const Variable& b, SL where = SL::current());
Variable minimum(const Variable& a, const Variable& b, SL where = SL::current());
Variable neg(const Variable& x, SL where = SL::current());
Variable abs(const Variable& x, SL where = SL::current());
Variable sgn(const Variable& x, SL where = SL::current());
Variable sqr(const Variable& x, SL where = SL::current());
Variable sqrt(const Variable& x, SL where = SL::current());
Variable exp(const Variable& x, SL where = SL::current());
Variable log(const Variable& x, SL where = SL::current());
Variable log1p(const Variable& x, SL where = SL::current());
Variable expm1(const Variable& x, SL where = SL::current());  // exp(x) - 1, exact for tiny x
Variable tanh(const Variable& x, SL where = SL::current());
Variable sin(const Variable& x, SL where = SL::current());
Variable cos(const Variable& x, SL where = SL::current());
Variable sigmoid(const Variable& x, SL where = SL::current());
Variable softplus(const Variable& x, SL where = SL::current());
Variable relu(const Variable& x, SL where = SL::current());
Variable clip(const Variable& x, const Operand& lo, const Operand& hi, SL where = SL::current());
Variable cast(const Variable& x, DType dtype, SL where = SL::current());

// Comparisons and logic; results are bool.
Variable eq(const Variable& a, const Variable& b, SL where = SL::current());
Variable neq(const Variable& a, const Variable& b, SL where = SL::current());
Variable lt(const Variable& a, const Variable& b, SL where = SL::current());
Variable le(const Variable& a, const Variable& b, SL where = SL::current());
Variable gt(const Variable& a, const Variable& b, SL where = SL::current());
Variable ge(const Variable& a, const Variable& b, SL where = SL::current());
Variable and_(const Variable& a, const Variable& b, SL where = SL::current());
Variable or_(const Variable& a, const Variable& b, SL where = SL::current());
Variable xor_(const Variable& a, const Variable& b, SL where = SL::current());
Variable not_(const Variable& x, SL where = SL::current());
Variable switch_(const Variable& cond, const Operand& a, const Operand& b, SL where = SL::current());

// Reductions over one axis, several or all (nullopt), with keepdims.
Variable sum(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current());
Variable mean(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current());
Variable prod(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current());
Variable max(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current());
Variable min(const Variable& x, Axes axis = std::nullopt, bool keepdims = false, SL where = SL::current());
Variable argmax(const Variable& x, std::optional<int> axis = std::nullopt, bool keepdims = false, SL where = SL::current());
Variable argmin(const Variable& x, std::optional<int> axis = std::nullopt, bool keepdims = false, SL where = SL::current());

// Linear algebra: numpy.dot semantics up to 2-d.
Variable dot(const Variable& a, const Variable& b, SL where = SL::current());
Variable outer(const Variable& a, const Variable& b, SL where = SL::current());

// Shapes.
Variable dimshuffle(const Variable& x, std::vector<std::int64_t> pattern, SL where = SL::current());  // -1 = 'x'
Variable transpose(const Variable& x, SL where = SL::current());
Variable reshape(const Variable& x, std::vector<Variable> shape, SL where = SL::current());
Variable flatten(const Variable& x, int outdim = 1, SL where = SL::current());
Variable concatenate(const std::vector<Variable>& xs, int axis = 0, SL where = SL::current());
Variable stack(const std::vector<Variable>& xs, int axis = 0, SL where = SL::current());
Variable shape(const Variable& x, SL where = SL::current());
Variable arange(const Operand& stop, SL where = SL::current());
Variable arange(const Operand& start, const Operand& stop, const Operand& step = 1, SL where = SL::current());
Variable zeros_like(const Variable& x, SL where = SL::current());
Variable ones_like(const Variable& x, SL where = SL::current());

// Indexing: x[slice(a, b)], x[{slice(a, b), i}], x[{arange(n), y}].
Slice slice(Bound start = std::nullopt, Bound stop = std::nullopt, Bound step = std::nullopt);
template <std::integral A, std::integral B> Slice slice(A start, B stop) {
  return Slice(constant(static_cast<std::int64_t>(start), int64), constant(static_cast<std::int64_t>(stop), int64));
}
Variable subtensor(const Variable& x, const std::vector<Index>& indices, SL where = SL::current());
// x with x[indices] replaced by y (set_subtensor) or increased by y (inc_subtensor).
Variable set_subtensor(const Variable& x_indexed, const Variable& y, SL where = SL::current());
Variable inc_subtensor(const Variable& x_indexed, const Variable& y, SL where = SL::current());

// Neural-network ops (theano.tensor.nnet).
namespace nnet {
Variable softmax(const Variable& x, SL where = SL::current());
Variable log_softmax(const Variable& x, SL where = SL::current());
Variable sigmoid(const Variable& x, SL where = SL::current());
Variable softplus(const Variable& x, SL where = SL::current());
Variable relu(const Variable& x, SL where = SL::current());
// targets: one-hot rows (same type as probs) or an integer vector of classes.
Variable categorical_crossentropy(const Variable& probs, const Variable& targets, SL where = SL::current());
Variable binary_crossentropy(const Variable& output, const Variable& target, SL where = SL::current());
}  // namespace nnet
using nnet::binary_crossentropy;
using nnet::categorical_crossentropy;
using nnet::log_softmax;
using nnet::softmax;

// theano.printing.Print: x, passed through; whenever the function runs it
// prints "message attr = ..." to stdout for each attribute: "value" (the
// default), "shape", "dtype", "min", "max", "mean", "sum". The rewrites never
// remove or merge it; its gradient passes through without printing.
Variable print(const Variable& x, std::string message = "", const std::vector<std::string>& attrs = {},
               SL where = SL::current());

namespace extra_ops {
Variable to_one_hot(const Variable& y, std::int64_t nb_class, DType dtype = config().floatX, SL where = SL::current());
}  // namespace extra_ops

}  // namespace graphjit::tensor
#include <graphjit/math.hpp>  // issue 8: elementwise math, numbers in binary ops
#include <graphjit/statistics.hpp>  // issue 8: var, std, any, all, logsumexp
#include <graphjit/input_builders.hpp>  // issue 8: row, col, dmatrices, dtypes by name
#include <graphjit/shape_ops.hpp>  // issue 8: alloc, zeros, eye, repeat, tile, split, roll, take, patternbroadcast, ...
#include <graphjit/linalg.hpp>  // issue 8: tensordot, batched_dot, nlinalg, slinalg
#include <graphjit/extra_ops.hpp>  // issue 8: cumsum, cumprod, sort, argsort

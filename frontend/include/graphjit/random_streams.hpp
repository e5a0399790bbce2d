// Random numbers inside the graph (theano.tensor.shared_randomstreams /
// MRG_RandomStreams): draws are symbolic variables, computed when a function
// runs, by a counter-based generator (Philox4x32-10) inside the compiled code.
//
//   graphjit::RandomStreams rng(1234);
//   auto mask = rng.binomial(h.shape(), 1, 0.5, floatX);   // a new mask on every call
//   auto f = graphjit::function({x}, {h * mask});
//
// Each draw owns a shared variable, its state [key, counter], with a default
// update that moves the counter past the numbers the draw used: every
// function computing the draw updates it automatically (Theano's default
// updates; FunctionOptions::no_default_updates opts out). Numbers depend only
// on the seed and the calls made, never on the thread count.
#pragma once

#include <graphjit/runtime/config.hpp>
#include <graphjit/shared.hpp>
#include <graphjit/variable.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <source_location>
#include <utility>
#include <vector>

namespace graphjit {

namespace ir {
enum class OpCode : std::uint16_t;
}

// The shape of a draw: numbers, integer scalar variables, or a shape vector
// such as x.shape(): rng.uniform({3, 4}), rng.uniform({x.shape(0), 10}), rng.uniform(x.shape()).
class DrawShape {
 public:
  DrawShape(std::initializer_list<Operand> dims);
  DrawShape(const std::vector<std::int64_t>& dims);
  DrawShape(std::vector<Variable> dims) : dims_(std::move(dims)) {}
  DrawShape(const Variable& shape_vector);  // x.shape() (a ShapeOf node), or a vector of known length
  const std::vector<Variable>& dims() const { return dims_; }

 private:
  std::vector<Variable> dims_;
};

// theano's `shared_var.default_update = value`: every function that uses
// `target` and does not update it otherwise gets `target <- value`.
void set_default_update(const SharedVariable& target, const Variable& value);
// The default update of a shared variable's state, if it has one.
std::optional<Variable> default_update(const SharedState* target);

class RandomStreams {
 public:
  using SL = std::source_location;
  explicit RandomStreams(std::uint64_t seed = 12345);

  // Uniform on [low, high).
  Variable uniform(const DrawShape& shape, const Operand& low = 0.0, const Operand& high = 1.0,
                   DType dtype = config().floatX, SL where = SL::current());
  Variable normal(const DrawShape& shape, const Operand& mean = 0.0, const Operand& std = 1.0,
                  DType dtype = config().floatX, SL where = SL::current());
  // Successes in n trials of probability p (n = 1: a Bernoulli mask).
  Variable binomial(const DrawShape& shape, const Operand& n = 1, const Operand& p = 0.5, DType dtype = int64,
                    SL where = SL::current());
  // Integers in [low, high) (numpy's Generator.integers).
  Variable integers(const DrawShape& shape, const Operand& low, const Operand& high, DType dtype = int64,
                    SL where = SL::current());
  // A random ordering of 0..n-1.
  Variable permutation(const Operand& n, SL where = SL::current());
  // Elements of the vector `a` (numpy.random.choice): with replacement, each
  // with probability `p` (a vector summing to 1) or uniformly; without
  // replacement (uniform only), distinct positions of a.
  Variable choice(const DrawShape& shape, const Variable& a, bool replace = true, const Variable& p = Variable(),
                  SL where = SL::current());

  // Reseeds every draw made so far (and the ones to come) from s.
  void seed(std::uint64_t s);
  // (state, default update) of every draw, Theano's rng.updates().
  std::vector<std::pair<SharedVariable, Variable>> updates() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  SharedVariable new_state(SL where) const;
  void advance(const SharedVariable& state, const Variable& blocks);
  Variable draw(ir::OpCode op, const DrawShape& shape, const Variable& a, const Variable& b, DType dtype, SL where);
};

namespace tensor::nnet {
// Dropout with inverted scaling: each element of x is kept with probability
// 1 - p and then divided by 1 - p (so the expected value is x), or zeroed.
// The mask is rng.binomial(x.shape(), 1, 1 - p), a new one on every call;
// p = 0 returns x itself.
Variable dropout(const Variable& x, double p, RandomStreams& rng,
                 std::source_location where = std::source_location::current());
}  // namespace tensor::nnet

}  // namespace graphjit

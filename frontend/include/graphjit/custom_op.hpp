// User-defined ops, from the user's own code (Theano's Op subclass and
// as_op): no edit of graphjit's sources. The user describes the op once:
//
//   graphjit::CustomOp cube({
//       .name = "cube",
//       .type = [](const std::vector<graphjit::Variable>& in) {
//         return graphjit::OutputType{in[0].dtype(), in[0].broadcastable()}; },
//       .shape = [](const std::vector<graphjit::Shape>& in) { return in[0]; },
//       .perform = [](const std::vector<graphjit::Tensor>& in) { ... return y; },
//       .native = [](const std::vector<graphjit::Tensor>& in, graphjit::Tensor& out) { ... },
//       .grad = [](const std::vector<graphjit::Variable>& in, const graphjit::Variable&,
//                  const graphjit::Variable& g) { return std::vector{3.0 * in[0] * in[0] * g}; },
//       .rop = [](const std::vector<graphjit::Variable>& in, const graphjit::Variable&,
//                 const std::vector<graphjit::Variable>& t) { return 3.0 * in[0] * in[0] * t[0]; }});
//   auto y = cube({x});
//
// The op is then a node like any other (the graph, grad, printing, every
// mode). `perform` is its reference kernel, the oracle: Mode::reference runs
// it, and Mode::debug compares the native kernel against it. Compiled
// functions (fast_run) run `native` as the op's native step, writing into
// memory the planner hands it; without `native` they run `perform`.
// perform and native must be deterministic functions of their inputs, with
// no effect besides writing the output: graphjit merges equal nodes, folds
// nodes of constants and may run either kernel at compile time.
// examples/custom_op.cpp is a complete example.
#pragma once

#include <graphjit/runtime/tensor.hpp>
#include <graphjit/variable.hpp>

#include <cstdint>
#include <functional>
#include <source_location>
#include <string>
#include <vector>

namespace graphjit {

// The type of a custom op's output: its dtype and broadcastable pattern (the
// pattern's length is the number of dimensions).
struct OutputType {
  DType dtype = DType::float64;
  std::vector<bool> broadcastable;
};

struct OpDefinition {
  std::string name;  // how graphs and errors name the op: "cube" prints as custom{cube}
  int arity = -1;    // the number of inputs it takes; -1: any number
  // The type rule (Theano's make_node): the output's type from the inputs'
  // (read dtype(), ndim(), broadcastable()). Throw graphjit::TypeError to
  // reject inputs; the message is passed on with the op's name and line.
  std::function<OutputType(const std::vector<Variable>& inputs)> type;
  // The shape rule (Theano's infer_shape): the output's shape from the inputs' shapes.
  std::function<Shape(const std::vector<Shape>& inputs)> shape;
  // Theano's perform: the reference kernel. Returns the output, of the type
  // and shape the rules give (checked), computed plainly and correctly.
  std::function<Tensor(const std::vector<Tensor>& inputs)> perform;
  // Optional: the compiled kernel. `out` is already allocated (contiguous,
  // of the rules' shape and dtype) and may hold garbage; write every element.
  // Inputs may be strided views (Tensor::contiguous() gives a packed one).
  std::function<void(const std::vector<Tensor>& inputs, Tensor& out)> native;
  // Optional: the gradient (Theano's grad / L_op) as a graph of existing
  // ops: given the inputs, the output and the cost's gradient with respect
  // to the output, one gradient per input (an undefined Variable: none, as
  // for an integer input). Without it, T::grad through the op says so.
  std::function<std::vector<Variable>(const std::vector<Variable>& inputs, const Variable& output,
                                      const Variable& output_grad)>
      grad;
  // Optional: the R-operator (Theano's R_op, for T::Rop): the derivative of
  // the output in the direction of the inputs' tangents, as a graph of
  // existing ops. tangents[i] is undefined where input i has none (treat it as
  // zero). Without it, Rop through the op is a GradError naming the op.
  std::function<Variable(const std::vector<Variable>& inputs, const Variable& output,
                         const std::vector<Variable>& tangents)>
      rop;
};

// A registered user op: callable on variables to build nodes.
class CustomOp {
 public:
  // Checks the definition (a name, a type rule, a shape rule and perform are
  // required) and registers it for the life of the process.
  explicit CustomOp(OpDefinition definition);
  // A node of this op on `inputs`, typed by the type rule (errors name the op and `where`).
  Variable operator()(const std::vector<Variable>& inputs,
                      std::source_location where = std::source_location::current()) const;
  const std::string& name() const;

 private:
  std::int64_t id_;  // the op's index in the process's registry (frontend/ops/custom.cpp)
};

}  // namespace graphjit

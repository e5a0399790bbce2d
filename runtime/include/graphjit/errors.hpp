// The exceptions graphjit throws. Every message names the variables, the op
// and the shapes or types involved, and says what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace graphjit {

// A graph that cannot be built: wrong ndim, dtype, axis, arity.
struct TypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// A value that does not fit at run time: shapes that do not broadcast, an index out of range.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A matrix a linear-algebra op cannot work on: singular, not positive
// definite, an eigenproblem that does not converge (numpy's LinAlgError). It
// is a ShapeError, the run-time value error, so handlers of that catch it too.
struct LinAlgError : ShapeError {
  using ShapeError::ShapeError;
};
// A function built or called wrongly: argument count, unused inputs, bad updates or givens.
struct FunctionError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// Gradient requests that cannot be met: non-scalar cost, wrt not in the graph.
struct GradError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace graphjit

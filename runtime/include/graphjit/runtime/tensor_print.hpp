// numpy's printing of arrays: str(a) is Tensor::to_string(), repr(a) is
// graphjit::repr, and `std::cout << t` prints str(a). numpy's defaults:
// precision 8, small values suppressed only when numpy would, and arrays of
// more than 1000 elements summarized to their first and last 3 entries per
// axis with "...".
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <iosfwd>
#include <string>

namespace graphjit {

// numpy's repr(): "array([1., 2.])", "array([1, 2], dtype=int32)", "array(5.)".
std::string repr(const Tensor& t);
// numpy's str() (Tensor::to_string).
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace graphjit

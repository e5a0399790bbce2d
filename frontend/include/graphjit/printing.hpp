// theano.printing.debugprint: graphs as indented text.
#pragma once

#include <graphjit/function.hpp>
#include <graphjit/variable.hpp>

#include <string>
#include <vector>

namespace graphjit {

// One line per node: op, name, type and id; a subtree seen before is printed
// once and referred to by its id afterwards.
std::string debugprint(const Variable& v);
std::string debugprint(const std::vector<Variable>& vs);
// The function's graph after its rewrites (outputs and updates).
std::string debugprint(const Function& f);

}  // namespace graphjit

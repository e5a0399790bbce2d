#include "compiler/ir/scan_body.hpp"

namespace graphjit::ir {

std::size_t ScanBody::num_recurrent() const {
  std::size_t n = 0;
  for (const Output& o : outputs) n += !o.taps.empty();
  return n;
}

int ScanBody::initial_input(std::size_t j) const {
  if (outputs[j].taps.empty()) return -1;
  std::size_t k = first_initial();
  for (std::size_t i = 0; i < j; ++i) k += !outputs[i].taps.empty();
  return static_cast<int>(k);
}

}  // namespace graphjit::ir

#include "compiler/codegen/lane_transpose.hpp"

#include <stdexcept>

namespace graphjit::codegen {

namespace {

// Lanes first .. first + n/2 - 1 of a and b, interleaved: a[f], b[f], a[f+1], b[f+1], ...
llvm::Value* interleave(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y, int n, int first) {
  std::vector<int> mask;
  for (int i = 0; i < n / 2; ++i) {
    mask.push_back(first + i);
    mask.push_back(n + first + i);
  }
  return b.CreateShuffleVector(x, y, mask);
}

}  // namespace

// log2(n) rounds of the perfect shuffle: row i meets row i + n/2, the low
// halves interleaved go to 2i and the high halves to 2i + 1. After the last
// round vector j holds lane j of every row, in row order.
std::vector<llvm::Value*> transpose_lanes(llvm::IRBuilder<>& b, std::vector<llvm::Value*> rows) {
  const int n = static_cast<int>(rows.size());
  if (n == 0 || (n & (n - 1)) != 0) throw std::logic_error("transpose_lanes: needs a power of two of rows");
  for (int round = 1; round < n; round *= 2) {
    std::vector<llvm::Value*> next(rows.size());
    for (int i = 0; i < n / 2; ++i) {
      next[2 * i] = interleave(b, rows[i], rows[i + n / 2], n, 0);
      next[2 * i + 1] = interleave(b, rows[i], rows[i + n / 2], n, n / 2);
    }
    rows = std::move(next);
  }
  return rows;
}

}  // namespace graphjit::codegen

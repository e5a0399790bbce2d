// Reading a fuzzer's input as a stream of small choices: each choice takes one
// byte, and an exhausted input reads as zeros, so every input decodes to
// something and short inputs decode to small cases.
#pragma once

#include <cstddef>
#include <cstdint>

namespace graphjit::fuzz {

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  // A choice in [0, n).
  int below(int n) { return n <= 1 ? 0 : static_cast<int>(next() % static_cast<unsigned>(n)); }
  bool empty() const { return pos_ >= size_; }

 private:
  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace graphjit::fuzz

// Reading and writing fixed-endian integers in file formats (IDX is big-endian,
// NPY and ZIP are little-endian), independent of the host's byte order.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace graphjit::byte_order {

// Unsigned value of `n` bytes stored big- or little-endian at p.
inline std::uint64_t load_be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t load_le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline void store_be(unsigned char* p, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v);
}
inline void store_le(unsigned char* p, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i, v >>= 8) p[i] = static_cast<unsigned char>(v);
}

// Reverses the bytes of each of `count` elements of `elem_size` bytes.
inline void swap_each(void* data, std::size_t count, std::size_t elem_size) {
  if (elem_size < 2) return;
  auto* p = static_cast<unsigned char*>(data);
  for (std::size_t i = 0; i < count; ++i, p += elem_size) std::reverse(p, p + elem_size);
}

// Converts elements between the host's order and the file's, in place (the
// conversion is its own inverse, so the same call serves reading and writing).
inline void host_to_big(void* data, std::size_t count, std::size_t elem_size) {
  if constexpr (std::endian::native == std::endian::little) swap_each(data, count, elem_size);
}
inline void host_to_little(void* data, std::size_t count, std::size_t elem_size) {
  if constexpr (std::endian::native == std::endian::big) swap_each(data, count, elem_size);
}

}  // namespace graphjit::byte_order

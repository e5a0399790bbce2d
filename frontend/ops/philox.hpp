// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): a counter-based generator. The 128-bit output is a pure function of
// a 128-bit counter and a 64-bit key, so element i of a draw is computed from
// (key, counter + i) alone, in any order, on any thread: numbers cannot depend
// on how a loop is split.
//
// Two implementations of the same function: `philox_reference`, one block at
// a time and written like the paper (the oracle), and `philox_lanes`, kLanes
// blocks at once in structure-of-arrays form so the compiler vectorizes the
// 32x32->64 multiplies (the native kernels use it). The transforms from four
// words to a value (uniform, normal, ...) are shared by both, in random.cpp.
#pragma once

#include <array>
#include <cstdint>

namespace graphjit::philox {

using Words = std::array<std::uint32_t, 4>;

inline constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;     // round multipliers
inline constexpr std::uint32_t kBump0 = 0x9E3779B9u, kBump1 = 0xBB67AE85u;  // key schedule (golden ratio, sqrt(3)-1)
inline constexpr int kRounds = 10;

// The block for counter (c0, c1, c2, c3) under key (k0, k1).
inline Words philox_reference(Words c, std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      k0 += kBump0;
      k1 += kBump1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<std::uint32_t>(p0)};
  }
  return c;
}

// The counter of element `index` of a draw whose state counter is `base`:
// the 64-bit sum in words 0 and 1, words 2 and 3 zero.
inline Words counter_words(std::uint64_t base, std::uint64_t index) {
  const std::uint64_t c = base + index;
  return {static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32), 0u, 0u};
}

inline constexpr int kLanes = 16;

// Blocks for counters base+first .. base+first+kLanes-1: out[w][lane] is word w of that block.
inline void philox_lanes(std::uint64_t base, std::uint64_t first, std::uint32_t key0, std::uint32_t key1,
                         std::uint32_t out[4][kLanes]) {
  std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const std::uint64_t c = base + first + static_cast<std::uint64_t>(l);
    c0[l] = static_cast<std::uint32_t>(c);
    c1[l] = static_cast<std::uint32_t>(c >> 32);
    c2[l] = 0;
    c3[l] = 0;
  }
  std::uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      k0 += kBump0;
      k1 += kBump1;
    }
    for (int l = 0; l < kLanes; ++l) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c0[l];
      const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c2[l];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[l] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[l] ^ k1;
      c1[l] = static_cast<std::uint32_t>(p1);
      c3[l] = static_cast<std::uint32_t>(p0);
      c0[l] = n0;
      c2[l] = n2;
    }
  }
  for (int l = 0; l < kLanes; ++l) {
    out[0][l] = c0[l];
    out[1][l] = c1[l];
    out[2][l] = c2[l];
    out[3][l] = c3[l];
  }
}

}  // namespace graphjit::philox

// Arguments for the ulp tests of the vector math (test_vector_math,
// test_vector_math_special): uniform ranges, magnitudes spread over all
// exponents, and runs of neighbouring floats around given points.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <vector>

namespace graphjit::testing {

template <class T> class UlpArguments {
 public:
  explicit UlpArguments(std::uint64_t seed) : rng_(seed) {}

  void uniform(double lo, double hi, int count) {
    for (int i = 0; i < count; ++i) xs_.push_back(static_cast<T>(lo + (hi - lo) * unit_(rng_)));
  }
  // ±2^u, u uniform from the subnormals up to `top`.
  void magnitudes(double top, int count) {
    const int bottom = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
    for (int i = 0; i < count; ++i) {
      const T m = static_cast<T>(std::exp2(bottom + (top - bottom) * unit_(rng_)));
      xs_.push_back(i % 2 ? m : -m);
    }
  }
  // 20 arguments next to each other from each point toward zero, and their negatives.
  void around(std::initializer_list<double> points) {
    for (double p : points)
      for (T x = static_cast<T>(p), k = 0; k < 20; ++k, x = std::nextafter(x, T(0))) xs_.push_back(x), xs_.push_back(-x);
  }
  // 20 arguments next to each other on either side of each point.
  void either_side(std::initializer_list<double> points) {
    for (double p : points)
      for (T up = static_cast<T>(p), down = up, k = 0; k < 20; ++k) {
        xs_.push_back(up), xs_.push_back(down);
        up = std::nextafter(up, std::numeric_limits<T>::infinity());
        down = std::nextafter(down, -std::numeric_limits<T>::infinity());
      }
  }
  double unit() { return unit_(rng_); }
  void push_back(T x) { xs_.push_back(x); }
  std::vector<T>& values() { return xs_; }

 private:
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0, 1};
  std::vector<T> xs_;
};

}  // namespace graphjit::testing

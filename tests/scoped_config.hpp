// Changes to graphjit::config() that last until the end of a test's scope, so
// one test's options never leak into the next.
#pragma once

#include <graphjit/runtime/config.hpp>

#include <string_view>

namespace graphjit::testing {

class ScopedConfig {
 public:
  ScopedConfig() : saved_(config()) {}
  explicit ScopedConfig(std::string_view flags) : saved_(config()) { set_flags(flags); }
  ~ScopedConfig() { config() = saved_; }
  ScopedConfig(const ScopedConfig&) = delete;
  ScopedConfig& operator=(const ScopedConfig&) = delete;

 private:
  Config saved_;
};

}  // namespace graphjit::testing

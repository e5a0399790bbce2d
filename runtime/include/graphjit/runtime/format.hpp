// fmt support: fmt::format("{}", tensor) and fmt::format("{}", dtype).
// Both accept string format specs, e.g. "{:>10}" pads the dtype's name.
#pragma once

#include <graphjit/runtime/dtype.hpp>
#include <graphjit/runtime/tensor.hpp>

#include <fmt/format.h>

#include <string_view>

template <> struct fmt::formatter<graphjit::DType> : fmt::formatter<std::string_view> {
  template <class FormatContext> auto format(graphjit::DType t, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(graphjit::dtype_name(t), ctx);
  }
};

template <> struct fmt::formatter<graphjit::Tensor> : fmt::formatter<std::string_view> {
  template <class FormatContext> auto format(const graphjit::Tensor& t, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(t.to_string(), ctx);
  }
};

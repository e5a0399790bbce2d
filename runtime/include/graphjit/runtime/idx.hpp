// The IDX format of the MNIST family of data sets (LeCun's train-images-idx3-ubyte
// and friends): a 4-byte header (two zero bytes, an element-type code, the number
// of dimensions), one big-endian int32 per dimension, then the elements in
// row-major order, big-endian. Files are usually gzipped.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <string>

namespace graphjit {

// Reads a raw or gzipped IDX file (gzip is detected from the content, not the
// name). Element types: uint8, int8, int16, int32, float32, float64.
// Throws std::runtime_error naming the path and the problem for a missing,
// foreign, truncated or over-long file.
Tensor load_idx(const std::string& path);

// Writes `t` (uint8, int8, int16, int32, float32 or float64), gzipped when the
// path ends in ".gz", raw otherwise. The file appears complete or not at all.
void save_idx(const std::string& path, const Tensor& t);

}  // namespace graphjit

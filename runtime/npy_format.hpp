// Encoding and decoding one array in numpy's NPY format (the contents of a .npy
// file and of each entry of a .npz archive).
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace graphjit {

// The complete NPY bytes (version 1.0 header, little-endian, C order).
std::vector<unsigned char> encode_npy(const Tensor& t);

// Parses NPY bytes into a new tensor. `where` names the source in errors
// ("model.npz, entry W1.npy").
Tensor decode_npy(const unsigned char* bytes, std::size_t size, const std::string& where);

}  // namespace graphjit

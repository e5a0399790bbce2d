// numpy's file formats: .npy (one array) and .npz (a ZIP archive of .npy files,
// as written by numpy.savez and numpy.savez_compressed), so parameters and data
// move between graphjit and Python without conversion scripts.
//
// Element types: bool, int8, int16, int32, int64, uint8, float32, float64, in
// either byte order and in C or Fortran order when reading; little-endian,
// C order when writing. Object (pickled), structured and other numeric dtypes
// (uint16, float16, complex, ...) are rejected with an error naming them.
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <string>
#include <utility>
#include <vector>

namespace graphjit {

using NamedArrays = std::vector<std::pair<std::string, Tensor>>;

// Writes one ".npy" entry per array, uncompressed, like numpy.savez(path, **arrays):
// the key "W1" becomes the entry "W1.npy". Keys must be non-empty and distinct.
// The archive appears complete or not at all. Archives over 4 GiB are refused.
void save_npz(const std::string& path, const NamedArrays& arrays);

// Reads every entry (stored or deflated), in archive order, keys without ".npy".
// Throws std::runtime_error naming the file, the entry and the problem for a
// missing, foreign or corrupt file (CRC-32 is checked).
NamedArrays load_npz(const std::string& path);

// A single array, like numpy.save / numpy.load on a .npy file.
void save_npy(const std::string& path, const Tensor& t);
Tensor load_npy(const std::string& path);

}  // namespace graphjit

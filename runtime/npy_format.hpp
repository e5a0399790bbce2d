// Encoding and decoding one array in numpy's NPY format (the contents of a .npy
// file and of each entry of a .npz archive).
#pragma once

#include <graphjit/runtime/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace graphjit {

// Untrusted text (a header, a key, an entry name) as it goes into an error
// message: at most a line's worth. An NPY header can be 4 GiB long (version
// 2), a ZIP entry name 64 KiB; a message should not be.
std::string excerpt(std::string_view text);

// The complete NPY bytes (version 1.0 header, little-endian, C order).
std::vector<unsigned char> encode_npy(const Tensor& t);

// Parses NPY bytes into a new tensor. `where` names the source in errors
// ("model.npz, entry W1.npy"). Nothing is allocated beyond what the bytes
// hold: the header's shape must account for exactly the data that follows.
Tensor decode_npy(const unsigned char* bytes, std::size_t size, const std::string& where);

// The total size NPY bytes must have, magic to last data byte, as their
// header says; nothing if the first `size` bytes do not hold the whole
// header yet. Throws like decode_npy for a malformed header. Lets a reader
// check a claimed size before it decompresses or allocates that much.
std::optional<std::uint64_t> npy_total_size(const unsigned char* bytes, std::size_t size, const std::string& where);

}  // namespace graphjit

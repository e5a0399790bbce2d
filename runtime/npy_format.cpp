#include "runtime/npy_format.hpp"

#include "runtime/byte_order.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace graphjit {

std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 120;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "... (" + std::to_string(text.size()) + " bytes)";
}

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// numpy pads headers so the data starts on a 64-byte boundary (aligned loads with mmap).
constexpr std::size_t kHeaderAlignment = 64;

// The one table between dtypes and numpy's type strings ("<f8": kind 'f', 8 bytes).
struct NpyType {
  DType dtype;
  char kind;
  std::size_t size;
};
constexpr std::array<NpyType, 8> kNpyTypes{{{DType::bool_, 'b', 1},
                                            {DType::int8, 'i', 1},
                                            {DType::int16, 'i', 2},
                                            {DType::int32, 'i', 4},
                                            {DType::int64, 'i', 8},
                                            {DType::uint8, 'u', 1},
                                            {DType::float32, 'f', 4},
                                            {DType::float64, 'f', 8}}};

const NpyType& npy_type_of(DType dtype) {
  for (const auto& t : kNpyTypes)
    if (t.dtype == dtype) return t;
  throw std::logic_error(std::string("npy: no NPY type for dtype ") + dtype_name(dtype));
}

std::string supported_descrs() {
  std::string s;
  for (const auto& t : kNpyTypes) s += (s.empty() ? "" : ", ") + std::string(1, t.kind) + std::to_string(t.size);
  return s;
}

[[noreturn]] void corrupt(const std::string& where, const std::string& what) {
  throw std::runtime_error(where + ": " + what);
}


// What an NPY header says; numpy writes it as a Python dict literal:
// {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// Parses exactly the subset of Python literal syntax NPY headers use:
// a dict of string keys to a string, True/False, or a tuple of integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : s_(text), where_(where) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!peek_is('}')) {
      std::string key = string_literal();
      expect(':');
      if ((key == "descr" && seen_descr) || (key == "fortran_order" && seen_order) || (key == "shape" && seen_shape))
        fail("the key '" + key + "' appears twice");
      if (key == "descr") {
        if (peek_is('['))
          fail("the array has a structured (record) dtype " + excerpt(rest()) + ", which is not supported");
        h.descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        seen_order = true;
      } else if (key == "shape") {
        h.shape = int_tuple();
        seen_shape = true;
      } else {
        fail("unexpected key '" + excerpt(key) + "'");
      }
      if (!peek_is('}')) expect(',');
    }
    expect('}');
    if (!seen_descr || !seen_order || !seen_shape) fail("the header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    corrupt(where_, "bad NPY header " + excerpt(s_) + ": " + what);
  }
  std::string_view rest() const { return s_.substr(i_); }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek_is(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek_is(c)) fail(std::string("expected '") + c + "' at offset " + std::to_string(i_));
    ++i_;
  }
  std::string string_literal() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a string at offset " + std::to_string(i_));
    const char quote = s_[i_++];
    const std::size_t end = s_.find(quote, i_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(i_, end - i_));
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (auto [word, value] : {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}})
      if (rest().substr(0, word.size()) == word) {
        i_ += word.size();
        return value;
      }
    fail("expected True or False at offset " + std::to_string(i_));
  }
  std::int64_t integer() {
    skip_space();
    std::int64_t v = 0;
    const std::size_t start = i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
      if (v > (INT64_MAX - 9) / 10) fail("a dimension is too large");
      v = v * 10 + (s_[i_++] - '0');
    }
    if (i_ == start) fail("expected a non-negative integer at offset " + std::to_string(i_));
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 wrote longs as 3L
    return v;
  }
  Shape int_tuple() {
    Shape shape;
    expect('(');
    while (!peek_is(')')) {
      shape.push_back(integer());
      if (!peek_is(')')) expect(',');
    }
    expect(')');
    return shape;
  }

  std::string_view s_;
  const std::string& where_;
  std::size_t i_ = 0;
};

struct ElementType {
  DType dtype;
  bool big_endian;
};

ElementType element_type(const std::string& descr, const std::string& where) {
  if (descr.size() >= 2) {
    const char order = descr[0];
    const char kind = descr[1];
    const std::string digits = descr.substr(2);
    const bool valid_order = order == '<' || order == '>' || order == '|' || order == '=';
    if (valid_order && !digits.empty() && digits.size() <= 2 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      const std::size_t size = std::stoul(digits);
      for (const auto& t : kNpyTypes)
        if (t.kind == kind && t.size == size)
          return {t.dtype, order == '>' || (order == '=' && std::endian::native == std::endian::big)};
    }
  }
  if (descr.find('O') != std::string::npos)
    corrupt(where, "the array holds Python objects (dtype '" + excerpt(descr) +
                       "', stored with pickle), which cannot be loaded");
  corrupt(where, "dtype '" + excerpt(descr) + "' is not supported (supported: " + supported_descrs() +
                     ", in either byte order); convert it in numpy with .astype() first");
}

}  // namespace

std::vector<unsigned char> encode_npy(const Tensor& t) {
  const NpyType& type = npy_type_of(t.dtype());
  // Python tuple syntax: (), (5,), (2, 3).
  std::string shape;
  for (std::int64_t d : t.shape()) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  shape = "(" + shape + (t.ndim() == 1 ? ",)" : ")");
  std::string dict = std::string("{'descr': '") + (type.size == 1 ? '|' : '<') + type.kind +
                     std::to_string(type.size) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces and end with a newline, so that magic + version + length + dict fills whole alignment units.
  const std::size_t prefix = kMagicSize + 2 + 2;
  const std::size_t total = (prefix + dict.size() + 1 + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  if (dict.size() > 0xFFFF)
    throw std::invalid_argument("encode_npy: the header for shape " + shape_str(t.shape()) + " exceeds 64 KiB");

  const Tensor data = t.contiguous();
  std::vector<unsigned char> out(total + data.nbytes());
  std::memcpy(out.data(), kMagic, kMagicSize);
  out[6] = 1;  // version 1.0
  out[7] = 0;
  byte_order::store_le(&out[8], dict.size(), 2);
  std::memcpy(&out[prefix], dict.data(), dict.size());
  if (data.nbytes() > 0) std::memcpy(&out[total], data.raw_data(), data.nbytes());
  byte_order::host_to_little(&out[total], static_cast<std::size_t>(data.size()), type.size);
  return out;
}

namespace {

// Where the parts of NPY bytes are, and what the header says about the data.
struct NpyLayout {
  NpyHeader header;
  ElementType type;
  std::size_t data_offset = 0;  // after magic, version, length and header
  Shape stored_shape;           // C order (Fortran order reversed)
  std::int64_t numel = 0;
  std::uint64_t data_bytes = 0;
};

// Reads the layout from the first `size` bytes; nothing if the header is not
// complete within them.
std::optional<NpyLayout> read_layout(const unsigned char* bytes, std::size_t size, const std::string& where) {
  if (size < kMagicSize + 4) return std::nullopt;
  if (std::memcmp(bytes, kMagic, kMagicSize) != 0) corrupt(where, "not an NPY array (it does not start with \\x93NUMPY)");
  const int major = bytes[6];
  // Version 1 has a 2-byte header length; 2 and 3 (UTF-8 header) a 4-byte one.
  if (major < 1 || major > 3) corrupt(where, "unknown NPY format version " + std::to_string(major));
  const int length_bytes = major == 1 ? 2 : 4;
  NpyLayout layout;
  const std::size_t header_start = kMagicSize + 2 + length_bytes;
  if (size < header_start) return std::nullopt;
  const std::size_t header_size = byte_order::load_le(bytes + kMagicSize + 2, length_bytes);
  if (header_size > size - header_start) return std::nullopt;
  layout.data_offset = header_start + header_size;

  const std::string_view header_text(reinterpret_cast<const char*>(bytes + header_start), header_size);
  layout.header = HeaderParser(header_text, where).parse();
  layout.type = element_type(layout.header.descr, where);

  // Fortran order is C order of the reversed shape; read that, then transpose.
  layout.stored_shape = layout.header.shape;
  if (layout.header.fortran_order) std::reverse(layout.stored_shape.begin(), layout.stored_shape.end());
  const std::size_t elem = dtype_size(layout.type.dtype);
  // Zero-length dims make an empty array whatever the others say (as in numpy).
  try {
    layout.numel = shape_numel(layout.stored_shape);
  } catch (const std::overflow_error&) {
    corrupt(where, "shape " + shape_str(layout.header.shape) + " is impossibly large");
  }
  if (__builtin_mul_overflow(static_cast<std::uint64_t>(layout.numel), elem, &layout.data_bytes))
    corrupt(where, "shape " + shape_str(layout.header.shape) + " is impossibly large");
  return layout;
}

}  // namespace

std::optional<std::uint64_t> npy_total_size(const unsigned char* bytes, std::size_t size, const std::string& where) {
  const auto layout = read_layout(bytes, size, where);
  if (!layout) return std::nullopt;
  std::uint64_t total;
  if (__builtin_add_overflow(layout->data_offset, layout->data_bytes, &total))
    corrupt(where, "shape " + shape_str(layout->header.shape) + " is impossibly large");
  return total;
}

Tensor decode_npy(const unsigned char* bytes, std::size_t size, const std::string& where) {
  const auto found = read_layout(bytes, size, where);
  if (!found) {
    if (size < kMagicSize || std::memcmp(bytes, kMagic, kMagicSize) != 0)
      corrupt(where, "not an NPY array (it does not start with \\x93NUMPY)");
    corrupt(where, "the file ends inside the NPY header");
  }
  const NpyLayout& layout = *found;
  const NpyHeader& header = layout.header;
  const ElementType type = layout.type;
  const Shape& stored_shape = layout.stored_shape;
  const std::size_t elem = dtype_size(type.dtype);
  const std::int64_t numel = layout.numel;
  const std::size_t available = size - layout.data_offset;
  const std::uint64_t needed = layout.data_bytes;
  // Checked before allocating: the array can be no larger than the bytes that hold it.
  if (needed != available)
    corrupt(where, "shape " + shape_str(header.shape) + " " + excerpt(header.descr) + " needs " +
                       std::to_string(needed) + " bytes of data, the file has " + std::to_string(available));

  Tensor t = Tensor::empty(stored_shape, type.dtype);
  const unsigned char* src = bytes + layout.data_offset;
  if (type.dtype == DType::bool_) {
    // Any other byte would be an invalid C++ bool.
    for (std::size_t i = 0; i < needed; ++i)
      if (src[i] > 1) corrupt(where, "bool element " + std::to_string(i) + " has byte value " + std::to_string(src[i]));
  }
  if (needed > 0) std::memcpy(t.raw_data(), src, needed);
  if (type.big_endian != (std::endian::native == std::endian::big))
    byte_order::swap_each(t.raw_data(), static_cast<std::size_t>(numel), elem);
  return header.fortran_order ? t.transpose().copy() : t;
}

}  // namespace graphjit

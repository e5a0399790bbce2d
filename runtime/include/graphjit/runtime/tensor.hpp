// The runtime n-d array: numpy's ndarray in C++.
//
// A Tensor is a view: a dtype, a shape, strides (in elements) and an offset
// into shared, 64-byte-aligned storage. Slicing, transposing and broadcasting
// make new views of the same storage; copy() and contiguous() make new storage.
#pragma once

#include <graphjit/runtime/dtype.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace graphjit {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

std::string shape_str(const Shape& s);  // "(500, 784)", "(3,)", "()" as Python prints tuples
// The number of elements: 0 if any dim is 0, otherwise the product, which
// throws std::overflow_error when it does not fit in int64 (numpy's "array is
// too big"). Every size computation goes through here or checked_mul.
std::int64_t shape_numel(const Shape& s);
Strides contiguous_strides(const Shape& s);
// a * b, or std::overflow_error naming `what` when it does not fit in int64.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, const char* what);
std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* what);

// Memory for a tensor could not be had. A std::bad_alloc (so code that
// handles running out of memory still does) that says how much, and for what.
class AllocationError : public std::bad_alloc {
 public:
  explicit AllocationError(std::string message) : message_(std::make_shared<const std::string>(std::move(message))) {}
  const char* what() const noexcept override { return message_->c_str(); }

 private:
  std::shared_ptr<const std::string> message_;  // shared: exceptions are copied
};

// Owns (or borrows, keeping its owner alive) one block of bytes.
class Storage {
 public:
  // Whether new memory is zero-filled. Fill::none is for memory its user
  // writes whole before anything reads it (a fused kernel's outputs, step
  // buffers): the zero-fill pass would cost as much as the kernel.
  enum class Fill : bool { zeros, none };
  explicit Storage(std::size_t bytes, Fill fill = Fill::zeros);  // 64-byte aligned
  Storage(void* external, std::size_t bytes, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* data_;
  std::size_t bytes_;
  // Keeps the memory alive: our own aligned block (freed with it) or the caller's owner.
  std::shared_ptr<void> owner_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Strides strides, std::int64_t offset);

  static Tensor empty(const Shape& shape, DType dtype);  // zero-filled, like zeros
  // Contents undefined: only for a tensor its creator overwrites whole
  // before anyone reads it (the executor's fresh kernel outputs).
  static Tensor uninitialized(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  static Tensor full(const Shape& shape, double value, DType dtype);
  template <class T> static Tensor scalar(T value) {
    Tensor t = empty({}, dtype_of<T>());
    *t.data<T>() = value;
    return t;
  }
  template <class T> static Tensor from_vector(const std::vector<T>& values, Shape shape = {});
  // {1.0, 2.0} is a float64 vector, {{1, 2}, {3, 4}} a float64 matrix (rows of one length).
  Tensor(std::initializer_list<double> values);
  Tensor(std::initializer_list<std::initializer_list<double>> rows);
  // Wraps memory the caller owns; `owner` (may be null) is kept alive as long as any view.
  static Tensor from_external(void* data, const Shape& shape, DType dtype, Strides strides = {},
                              std::shared_ptr<void> owner = {});
  static Tensor arange(std::int64_t n, DType dtype = DType::int64);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  const Shape& shape() const { return shape_; }
  std::int64_t shape(int axis) const;
  const Strides& strides() const { return strides_; }
  std::int64_t size() const { return shape_numel(shape_); }
  std::int64_t offset() const { return offset_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(size()) * dtype_size(dtype_); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool is_contiguous() const;
  bool shares_storage_with(const Tensor& other) const { return storage_ && storage_ == other.storage_; }

  // Pointer to the first element; T must be the tensor's type (checked).
  template <class T> T* data() const {
    check_type(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Element access by index (negative indices count from the end), converted to T.
  template <class T> T at(std::initializer_list<std::int64_t> index) const { return convert<T>(element_ptr(index)); }
  template <class T> T item() const;  // the value of a one-element tensor
  double get(const std::vector<std::int64_t>& index) const;  // any dtype, as double
  void set(const std::vector<std::int64_t>& index, double value);
  template <class T> std::vector<T> to_vector() const;  // all elements in row-major order, converted

  // Views (share storage). Axes and indices may be negative (counting from the end).
  // slice() follows Python: out-of-range start/stop clamp, a negative step walks
  // backwards; to run a negative step through element 0 pass stop = INT64_MIN.
  Tensor slice(int axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1) const;
  Tensor select(int axis, std::int64_t index) const;  // drops the axis
  Tensor transpose() const;                            // reverses the axes
  Tensor permute(const std::vector<int>& axes) const;
  Tensor broadcast_to(const Shape& shape) const;       // stride-0 views of size-1 or missing leading dims
  Tensor expand_dims(int axis) const;
  Tensor squeeze(int axis) const;                      // the axis must have length 1
  // A view when the layout allows, otherwise a copy. One entry may be -1.
  Tensor reshape(Shape shape) const;

  // New storage.
  Tensor copy() const;        // contiguous copy
  Tensor contiguous() const;  // *this if already contiguous
  Tensor astype(DType dtype) const;
  // Copies src (broadcast to this shape, converted to this dtype) into this view.
  void assign(const Tensor& src);
  void fill(double value);

  // Exact equality of dtype, shape and values (NaN equals nothing, as in numpy).
  bool equal(const Tensor& other) const;
  // numpy's str(), with numpy's default print options: "[[1. 2.]\n [3. 4.]]",
  // "[ 0.5 -2.  10. ]", "5.0" for a 0-d float, long axes cut to "..." above
  // 1000 elements (runtime/tensor_print.cpp; repr and operator<< are in
  // graphjit/runtime/tensor_print.hpp).
  std::string to_string() const;

 private:
  static Tensor allocate(const Shape& shape, DType dtype, Storage::Fill fill);
  template <class T> static T convert(const void* p, DType from);
  template <class T> T convert(const void* p) const { return convert<T>(p, dtype_); }
  const void* element_ptr(std::initializer_list<std::int64_t> index) const;
  const void* element_ptr(const std::vector<std::int64_t>& index) const;
  void check_type(DType t) const;

  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::float64;
  Shape shape_;
  Strides strides_;
  std::int64_t offset_ = 0;  // in elements
};

// Visits every element position of `shape` in row-major order, calling f(index).
// The plain loop the reference kernels are built on.
template <class F> void for_each_index(const Shape& shape, F&& f) {
  std::int64_t n = shape_numel(shape);
  std::vector<std::int64_t> idx(shape.size(), 0);
  for (std::int64_t k = 0; k < n; ++k) {
    f(static_cast<const std::vector<std::int64_t>&>(idx));
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

template <class T> T Tensor::convert(const void* p, DType from) {
  return visit_dtype(from, [p](auto tag) -> T {
    using S = decltype(tag);
    return value_cast<T>(*static_cast<const S*>(p));
  });
}

template <class T> T Tensor::item() const {
  if (size() != 1)
    throw std::invalid_argument("Tensor::item(): the tensor has shape " + shape_str(shape_) +
                                "; only a one-element tensor converts to a number");
  return convert<T>(raw_data());
}

template <class T> Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  if (shape.empty() && values.size() != 1) shape = {static_cast<std::int64_t>(values.size())};
  if (shape_numel(shape) != static_cast<std::int64_t>(values.size()))
    throw std::invalid_argument("Tensor::from_vector: " + std::to_string(values.size()) +
                                " values do not fill shape " + shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  T* out = t.data<T>();
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

template <class T> std::vector<T> Tensor::to_vector() const {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(size()));
  for_each_index(shape_, [&](const std::vector<std::int64_t>& i) { out.push_back(convert<T>(element_ptr(i))); });
  return out;
}

}  // namespace graphjit

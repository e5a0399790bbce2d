#include <graphjit/runtime/tensor.hpp>

#include "storage_recycling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <sys/mman.h>

namespace graphjit {
namespace {

constexpr std::size_t storage_alignment = 64;

// Blocks this large (glibc maps and unmaps each one) are kept for reuse after
// their last tensor is gone, up to recycled_storage_cap bytes in all. A fresh
// mapping page-faults every page in: 2*x+1 on 8M float64 through a call took
// 5-10x its kernel's time, nearly all of it in page faults, each call returning
// a new 64 MiB tensor while the caller dropped the last one. A block is reused
// only once no tensor refers to it, so returned tensors stay the caller's own.
constexpr std::size_t recycled_storage_bytes = std::size_t{32} << 20;
constexpr std::size_t recycled_storage_cap = std::size_t{256} << 20;

class RecycledBlocks {
 public:
  static RecycledBlocks& instance() {
    static auto* blocks = new RecycledBlocks;  // never destroyed: tensors may outlive static destructors
    return *blocks;
  }

  // A block of `bytes` (zero-filled if asked) with the deleter that hands it back; null if out of memory.
  std::shared_ptr<void> block(std::size_t bytes, Storage::Fill fill) {
    void* block = take(bytes);
    if (block) {
      if (fill == Storage::Fill::zeros) std::memset(block, 0, bytes);
    } else {
      block = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (block == MAP_FAILED) return nullptr;  // a fresh mapping is zero already
    }
    return std::shared_ptr<void>(block, [this, bytes](void* p) { give_back(p, bytes); });
  }

  void release_all() {
    std::vector<std::pair<std::size_t, void*>> held;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held.swap(free_);
      held_ = 0;
    }
    for (auto [bytes, block] : held) munmap(block, bytes);
  }

 private:
  void* take(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < free_.size(); ++i)
      if (free_[i].first == bytes) {
        void* block = free_[i].second;
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        held_ -= bytes;
        return block;
      }
    return nullptr;
  }

  void give_back(void* block, std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (held_ + bytes <= recycled_storage_cap) {
        free_.emplace_back(bytes, block);
        held_ += bytes;
        return;
      }
    }
    munmap(block, bytes);
  }

  std::mutex mutex_;
  std::vector<std::pair<std::size_t, void*>> free_;  // (bytes, block), oldest first
  std::size_t held_ = 0;
};

}  // namespace

void release_recycled_storage() { RecycledBlocks::instance().release_all(); }

namespace {

// Calls f(offset_a, offset_b) with the element offsets of two views of `shape`
// at every position, in row-major order. Offsets advance incrementally and the
// last axis is a plain loop: this is the fast path under assign, fill and equal.
template <class F>
void walk_pair(const Shape& shape, const Strides& sa, const Strides& sb, F&& f) {
  if (shape_numel(shape) == 0) return;
  const int nd = static_cast<int>(shape.size());
  if (nd == 0) {
    f(std::int64_t{0}, std::int64_t{0});
    return;
  }
  const std::int64_t inner = shape[nd - 1], step_a = sa[nd - 1], step_b = sb[nd - 1];
  const std::int64_t rows = shape_numel(shape) / inner;
  std::vector<std::int64_t> idx(nd - 1, 0);
  std::int64_t oa = 0, ob = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t k = 0; k < inner; ++k) f(oa + k * step_a, ob + k * step_b);
    for (int d = nd - 2; d >= 0; --d) {
      oa += sa[d];
      ob += sb[d];
      if (++idx[d] < shape[d]) break;
      oa -= sa[d] * shape[d];
      ob -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

template <class F> void walk(const Shape& shape, const Strides& s, F&& f) {
  walk_pair(shape, s, s, [&](std::int64_t a, std::int64_t) { f(a); });
}

void require_defined(const Tensor& t, const char* what) {
  if (!t.defined())
    throw std::invalid_argument(fmt::format("{}: the tensor is undefined (default-constructed); create it with "
                                            "Tensor::empty, zeros, from_vector, ...", what));
}

void check_shape(const Shape& shape, const char* what) {
  for (std::int64_t d : shape)
    if (d < 0)
      throw std::invalid_argument(fmt::format("{}: shape {} has a negative dimension", what, shape_str(shape)));
}

int normalize_axis(int axis, int ndim, const Shape& shape, const char* what) {
  if (axis < -ndim || axis >= ndim)
    throw std::out_of_range(fmt::format("{}: axis {} is out of range for shape {} (valid: {} to {})", what, axis,
                                        shape_str(shape), -ndim, ndim - 1));
  return axis < 0 ? axis + ndim : axis;
}

std::int64_t normalize_index(std::int64_t index, int axis, const Shape& shape, const char* what) {
  const std::int64_t n = shape[axis];
  if (index < -n || index >= n)
    throw std::out_of_range(fmt::format("{}: index {} is out of range for axis {} of shape {}", what, index, axis,
                                        shape_str(shape)));
  return index < 0 ? index + n : index;
}

// The lowest and highest element offsets a non-empty view reaches, relative
// to its first element (throws std::overflow_error when they do not fit in int64).
std::pair<std::int64_t, std::int64_t> reach(const Shape& shape, const Strides& strides) {
  std::int64_t lo = 0, hi = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    std::int64_t span;
    if (__builtin_mul_overflow(shape[d] - 1, strides[d], &span) ||
        __builtin_add_overflow(span < 0 ? lo : hi, span, span < 0 ? &lo : &hi))
      throw std::overflow_error(fmt::format("a view of shape {} with strides {} spans more elements than an int64 "
                                            "can count", shape_str(shape), shape_str(strides)));
  }
  return {lo, hi};
}

// Strides that show the elements of (old_shape, old_strides) in row-major order
// as new_shape, or nothing when no strides can and reshape must copy.
// Axes are matched in groups covering the same number of elements; the old axes
// of a group must step through memory like one axis for the group to be viewable.
std::optional<Strides> reshape_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape) {
  if (shape_numel(new_shape) == 0) return contiguous_strides(new_shape);
  Shape od;
  Strides os;
  for (std::size_t d = 0; d < old_shape.size(); ++d) {
    if (old_shape[d] == 1) continue;  // a length-1 axis has no memory layout to keep
    od.push_back(old_shape[d]);
    os.push_back(old_strides[d]);
  }
  Strides out(new_shape.size(), 1);
  std::size_t i = 0, j = 0;
  while (i < od.size() && j < new_shape.size()) {
    const std::size_t i0 = i, j0 = j;
    std::int64_t old_count = od[i], new_count = new_shape[j];
    while (old_count != new_count) {
      if (old_count < new_count) old_count *= od[++i];
      else new_count *= new_shape[++j];
    }
    for (std::size_t k = i0; k < i; ++k)
      if (os[k] != os[k + 1] * od[k + 1]) return std::nullopt;
    out[j] = os[i];
    for (std::size_t k = j; k > j0; --k) out[k - 1] = out[k] * new_shape[k];
    ++i;
    ++j;
  }
  return out;
}

// Resolves the one -1 a reshape target may hold.
Shape resolve_reshape(Shape shape, std::int64_t size, const Shape& from) {
  int inferred = -1;
  std::int64_t known = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      if (inferred >= 0)
        throw std::invalid_argument(
            fmt::format("Tensor::reshape: target {} has more than one -1; at most one length can be inferred",
                        shape_str(shape)));
      inferred = static_cast<int>(d);
    } else if (shape[d] < 0) {
      throw std::invalid_argument(
          fmt::format("Tensor::reshape: target {} has a negative length other than -1", shape_str(shape)));
    } else if (__builtin_mul_overflow(known, shape[d], &known)) {
      throw std::invalid_argument(fmt::format("Tensor::reshape: cannot reshape shape {} ({} elements) into {}, "
                                              "whose lengths multiply past int64", shape_str(from), size,
                                              shape_str(shape)));
    }
  }
  if (inferred >= 0) {
    if (known == 0 || size % known != 0)
      throw std::invalid_argument(fmt::format("Tensor::reshape: cannot infer the -1 in {} for shape {} ({} elements)",
                                              shape_str(shape), shape_str(from), size));
    shape[inferred] = size / known;
  }
  if (shape_numel(shape) != size)
    throw std::invalid_argument(fmt::format("Tensor::reshape: cannot reshape shape {} ({} elements) into {} ({} elements)",
                                            shape_str(from), size, shape_str(shape), shape_numel(shape)));
  return shape;
}

const void* element_at(const Tensor& t, const std::int64_t* index, std::size_t count) {
  if (count != static_cast<std::size_t>(t.ndim()))
    throw std::invalid_argument(fmt::format("Tensor element access: {} indices given for shape {}; give one per axis",
                                            count, shape_str(t.shape())));
  std::int64_t offset = 0;
  for (int d = 0; d < t.ndim(); ++d)
    offset += normalize_index(index[d], d, t.shape(), "Tensor element access") * t.strides()[d];
  return static_cast<const char*>(t.raw_data()) + offset * static_cast<std::int64_t>(dtype_size(t.dtype()));
}

}  // namespace

// --- shapes ------------------------------------------------------------------

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() == 1) out += ",";  // Python's one-element tuple
  return out + ")";
}

std::int64_t checked_mul(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t out;
  if (__builtin_mul_overflow(a, b, &out))
    throw std::overflow_error(fmt::format("{}: {} * {} does not fit in int64", what, a, b));
  return out;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t out;
  if (__builtin_add_overflow(a, b, &out))
    throw std::overflow_error(fmt::format("{}: {} + {} does not fit in int64", what, a, b));
  return out;
}

std::int64_t shape_numel(const Shape& s) {
  if (std::find(s.begin(), s.end(), 0) != s.end()) return 0;
  std::int64_t n = 1;
  for (std::int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::overflow_error(fmt::format("shape {} has more elements than an int64 can count", shape_str(s)));
  return n;
}

Strides contiguous_strides(const Shape& s) {
  // Only an empty shape's strides can overflow (its other dims may multiply
  // past int64); it has no elements to reach, so they wrap harmlessly.
  Strides st(s.size());
  std::uint64_t step = 1;
  for (int d = static_cast<int>(s.size()) - 1; d >= 0; --d) {
    st[d] = static_cast<std::int64_t>(step);
    step *= static_cast<std::uint64_t>(s[d]);
  }
  return st;
}

// --- Storage -----------------------------------------------------------------

Storage::Storage(std::size_t bytes, Fill fill) : bytes_(bytes) {
  auto fail = [bytes] { return AllocationError(fmt::format("cannot allocate {} bytes", bytes)); };
  if (bytes > std::numeric_limits<std::size_t>::max() - storage_alignment) throw fail();
  // aligned_alloc needs a multiple of the alignment; never ask for 0 bytes.
  const std::size_t rounded = std::max(storage_alignment, (bytes + storage_alignment - 1) / storage_alignment * storage_alignment);
  if (rounded >= recycled_storage_bytes) {
    owner_ = RecycledBlocks::instance().block(rounded, fill);
    if (!owner_) throw std::bad_alloc();
    data_ = owner_.get();
    return;
  }
  data_ = std::aligned_alloc(storage_alignment, rounded);
  if (!data_) throw fail();
  if (fill == Fill::zeros) std::memset(data_, 0, rounded);
  owner_ = std::shared_ptr<void>(data_, std::free);
}

Storage::Storage(void* external, std::size_t bytes, std::shared_ptr<void> owner)
    : data_(external), bytes_(bytes), owner_(std::move(owner)) {}

Storage::~Storage() = default;

// --- construction --------------------------------------------------------------

Tensor::Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Strides strides, std::int64_t offset)
    : storage_(std::move(storage)), dtype_(dtype), shape_(std::move(shape)), strides_(std::move(strides)),
      offset_(offset) {
  if (!storage_) throw std::invalid_argument("Tensor: null storage; use Tensor() for an undefined tensor");
  if (strides_.size() != shape_.size())
    throw std::invalid_argument(fmt::format("Tensor: shape {} needs {} strides, got {}", shape_str(shape_),
                                            shape_.size(), strides_.size()));
  check_shape(shape_, "Tensor");
  if (size() == 0) return;
  const auto [lo, hi] = reach(shape_, strides_);
  const auto capacity = static_cast<std::int64_t>(storage_->bytes() / dtype_size(dtype_));
  std::int64_t first, last;
  if (__builtin_add_overflow(offset_, lo, &first) || __builtin_add_overflow(offset_, hi, &last) || first < 0 ||
      last >= capacity)
    throw std::out_of_range(fmt::format(
        "Tensor: a view of shape {} with strides {} at offset {} reaches outside its storage of {} {} elements",
        shape_str(shape_), shape_str(strides_), offset_, capacity, dtype_name(dtype_)));
}

Tensor Tensor::empty(const Shape& shape, DType dtype) { return allocate(shape, dtype, Storage::Fill::zeros); }

Tensor Tensor::uninitialized(const Shape& shape, DType dtype) { return allocate(shape, dtype, Storage::Fill::none); }

Tensor Tensor::allocate(const Shape& shape, DType dtype, Storage::Fill fill) {
  check_shape(shape, "Tensor::empty");
  const auto esize = static_cast<std::int64_t>(dtype_size(dtype));
  std::int64_t bytes = 0;
  bool fits = true;
  try {
    fits = !__builtin_mul_overflow(shape_numel(shape), esize, &bytes);
  } catch (const std::overflow_error&) {
    fits = false;
  }
  if (!fits)
    throw AllocationError(fmt::format("cannot allocate a {} tensor of shape {}: its size in bytes does not fit in "
                                      "int64", dtype_name(dtype), shape_str(shape)));
  std::shared_ptr<Storage> storage;
  try {
    storage = std::make_shared<Storage>(static_cast<std::size_t>(bytes), fill);
  } catch (const std::bad_alloc&) {
    throw AllocationError(fmt::format("cannot allocate {} bytes for a {} tensor of shape {}", bytes, dtype_name(dtype),
                                      shape_str(shape)));
  }
  return Tensor(std::move(storage), dtype, shape, contiguous_strides(shape), 0);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  return empty(shape, dtype);  // Storage is zero-filled
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill(value);
  return t;
}

Tensor::Tensor(std::initializer_list<double> values)
    : Tensor(from_vector(std::vector<double>(values), Shape{static_cast<std::int64_t>(values.size())})) {}

Tensor::Tensor(std::initializer_list<std::initializer_list<double>> rows) {
  std::vector<double> values;
  const std::size_t width = rows.size() ? rows.begin()->size() : 0;
  for (const auto& row : rows) {
    if (row.size() != width)
      throw std::invalid_argument(fmt::format("Tensor: nested list rows have different lengths ({} and {}); a matrix "
                                              "needs rows of one length", width, row.size()));
    values.insert(values.end(), row.begin(), row.end());
  }
  *this = from_vector(values, Shape{static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(width)});
}

Tensor Tensor::from_external(void* data, const Shape& shape, DType dtype, Strides strides, std::shared_ptr<void> owner) {
  check_shape(shape, "Tensor::from_external");
  if (strides.empty()) strides = contiguous_strides(shape);
  if (strides.size() != shape.size())
    throw std::invalid_argument(fmt::format("Tensor::from_external: shape {} needs {} strides, got {}",
                                            shape_str(shape), shape.size(), strides.size()));
  if (shape_numel(shape) == 0)
    return Tensor(std::make_shared<Storage>(data, 0, std::move(owner)), dtype, shape, std::move(strides), 0);
  if (!data)
    throw std::invalid_argument(fmt::format("Tensor::from_external: null data for shape {}", shape_str(shape)));
  // The storage spans exactly the bytes the view reaches; negative strides reach below `data`.
  const auto [lo, hi] = reach(shape, strides);
  const auto esize = static_cast<std::int64_t>(dtype_size(dtype));
  std::int64_t span;
  if (__builtin_sub_overflow(hi, lo, &span) || __builtin_add_overflow(span, 1, &span) ||
      __builtin_mul_overflow(span, esize, &span))
    throw std::overflow_error(fmt::format("Tensor::from_external: a view of shape {} with strides {} spans more bytes "
                                          "than an int64 can count", shape_str(shape), shape_str(strides)));
  auto storage = std::make_shared<Storage>(static_cast<char*>(data) + lo * esize, static_cast<std::size_t>(span),
                                           std::move(owner));
  return Tensor(std::move(storage), dtype, shape, std::move(strides), -lo);
}

Tensor Tensor::arange(std::int64_t n, DType dtype) {
  if (n < 0) throw std::invalid_argument(fmt::format("Tensor::arange: length {} is negative", n));
  Tensor t = empty({n}, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = value_cast<T>(i);
  });
  return t;
}

// --- inspection ------------------------------------------------------------------

std::int64_t Tensor::shape(int axis) const { return shape_[normalize_axis(axis, ndim(), shape_, "Tensor::shape")]; }

bool Tensor::is_contiguous() const {
  if (size() == 0) return true;
  std::int64_t expected = 1;
  for (int d = ndim() - 1; d >= 0; --d) {
    if (shape_[d] != 1 && strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  require_defined(*this, "Tensor::raw_data");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(dtype_size(dtype_));
}

void Tensor::check_type(DType t) const {
  if (t != dtype_)
    throw std::invalid_argument(fmt::format("Tensor::data<{}>(): the tensor's dtype is {}; use astype({}) for a converted copy",
                                            dtype_name(t), dtype_name(dtype_), dtype_name(t)));
}

const void* Tensor::element_ptr(std::initializer_list<std::int64_t> index) const {
  return element_at(*this, index.begin(), index.size());
}

const void* Tensor::element_ptr(const std::vector<std::int64_t>& index) const {
  return element_at(*this, index.data(), index.size());
}

double Tensor::get(const std::vector<std::int64_t>& index) const { return convert<double>(element_ptr(index)); }

void Tensor::set(const std::vector<std::int64_t>& index, double value) {
  // Tensors are views onto mutable storage; element_ptr is const only because reads share it.
  void* p = const_cast<void*>(element_ptr(index));
  visit_dtype(dtype_, [&](auto tag) {
    using T = decltype(tag);
    *static_cast<T*>(p) = value_cast<T>(value);
  });
}

// --- views ---------------------------------------------------------------------------

Tensor Tensor::slice(int axis, std::int64_t start, std::int64_t stop, std::int64_t step) const {
  require_defined(*this, "Tensor::slice");
  const int ax = normalize_axis(axis, ndim(), shape_, "Tensor::slice");
  if (step == 0)
    throw std::invalid_argument(fmt::format("Tensor::slice: step is 0 on axis {} of shape {}; use a nonzero step", ax,
                                            shape_str(shape_)));
  const std::int64_t n = shape_[ax];
  // Python's rules: negative positions count from the end, then clamp to the
  // positions a walk in the step's direction can start or stop at.
  const std::int64_t lowest = step > 0 ? 0 : -1, highest = step > 0 ? n : n - 1;
  auto place = [&](std::int64_t i) { return std::clamp(i < 0 ? i + n : i, lowest, highest); };
  start = place(start);
  stop = place(stop);
  // Unsigned so that a step of INT64_MIN has a magnitude.
  const std::uint64_t magnitude = step > 0 ? static_cast<std::uint64_t>(step) : 0 - static_cast<std::uint64_t>(step);
  const std::int64_t distance = step > 0 ? stop - start : start - stop;
  const auto length = distance > 0 ? static_cast<std::int64_t>((static_cast<std::uint64_t>(distance) - 1) / magnitude + 1) : 0;

  Shape shape = shape_;
  Strides strides = strides_;
  shape[ax] = length;
  if (length > 1) strides[ax] *= step;  // a single element never steps, so a huge step cannot overflow
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides),
                length > 0 ? offset_ + start * strides_[ax] : offset_);
}

Tensor Tensor::select(int axis, std::int64_t index) const {
  require_defined(*this, "Tensor::select");
  const int ax = normalize_axis(axis, ndim(), shape_, "Tensor::select");
  const std::int64_t i = normalize_index(index, ax, shape_, "Tensor::select");
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + ax);
  strides.erase(strides.begin() + ax);
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides), offset_ + i * strides_[ax]);
}

Tensor Tensor::transpose() const {
  require_defined(*this, "Tensor::transpose");
  return Tensor(storage_, dtype_, Shape(shape_.rbegin(), shape_.rend()), Strides(strides_.rbegin(), strides_.rend()),
                offset_);
}

Tensor Tensor::permute(const std::vector<int>& axes) const {
  require_defined(*this, "Tensor::permute");
  if (axes.size() != shape_.size())
    throw std::invalid_argument(fmt::format("Tensor::permute: {} axes given for shape {}; give a permutation of all {}",
                                            axes.size(), shape_str(shape_), shape_.size()));
  Shape shape(shape_.size());
  Strides strides(shape_.size());
  std::vector<bool> used(shape_.size(), false);
  for (std::size_t d = 0; d < axes.size(); ++d) {
    const int ax = normalize_axis(axes[d], ndim(), shape_, "Tensor::permute");
    if (used[ax])
      throw std::invalid_argument(
          fmt::format("Tensor::permute: axis {} appears twice; give each axis of shape {} once", ax, shape_str(shape_)));
    used[ax] = true;
    shape[d] = shape_[ax];
    strides[d] = strides_[ax];
  }
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  require_defined(*this, "Tensor::broadcast_to");
  check_shape(shape, "Tensor::broadcast_to");
  if (shape.size() < shape_.size())
    throw std::invalid_argument(fmt::format("Tensor::broadcast_to: cannot broadcast shape {} to {}, which has fewer axes",
                                            shape_str(shape_), shape_str(shape)));
  const std::size_t lead = shape.size() - shape_.size();
  Strides strides(shape.size(), 0);  // new leading axes repeat the whole tensor
  for (std::size_t d = lead; d < shape.size(); ++d) {
    const std::int64_t have = shape_[d - lead];
    if (have == shape[d]) strides[d] = strides_[d - lead];
    else if (have != 1)
      throw std::invalid_argument(fmt::format("Tensor::broadcast_to: cannot broadcast shape {} to {}: axis {} has length {}, "
                                              "which is neither {} nor 1",
                                              shape_str(shape_), shape_str(shape), d - lead, have, shape[d]));
  }
  return Tensor(storage_, dtype_, shape, std::move(strides), offset_);
}

Tensor Tensor::expand_dims(int axis) const {
  require_defined(*this, "Tensor::expand_dims");
  const int ax = normalize_axis(axis, ndim() + 1, shape_, "Tensor::expand_dims");
  Shape shape = shape_;
  Strides strides = strides_;
  // Any stride works for a length-1 axis; this one keeps contiguous tensors canonical.
  const std::int64_t stride = ax < ndim() ? strides_[ax] * shape_[ax] : 1;
  shape.insert(shape.begin() + ax, 1);
  strides.insert(strides.begin() + ax, stride);
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::squeeze(int axis) const {
  require_defined(*this, "Tensor::squeeze");
  const int ax = normalize_axis(axis, ndim(), shape_, "Tensor::squeeze");
  if (shape_[ax] != 1)
    throw std::invalid_argument(fmt::format("Tensor::squeeze: axis {} of shape {} has length {}, not 1", ax,
                                            shape_str(shape_), shape_[ax]));
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + ax);
  strides.erase(strides.begin() + ax);
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::reshape(Shape shape) const {
  require_defined(*this, "Tensor::reshape");
  shape = resolve_reshape(std::move(shape), size(), shape_);
  if (auto strides = reshape_strides(shape_, strides_, shape))
    return Tensor(storage_, dtype_, std::move(shape), std::move(*strides), offset_);
  Tensor c = copy();
  return Tensor(c.storage_, dtype_, shape, contiguous_strides(shape), 0);
}

// --- new storage -----------------------------------------------------------------------

Tensor Tensor::copy() const {
  require_defined(*this, "Tensor::copy");
  Tensor out = empty(shape_, dtype_);
  out.assign(*this);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : copy(); }

Tensor Tensor::astype(DType dtype) const {
  require_defined(*this, "Tensor::astype");
  Tensor out = empty(shape_, dtype);
  out.assign(*this);
  return out;
}

void Tensor::assign(const Tensor& src) {
  require_defined(*this, "Tensor::assign (destination)");
  require_defined(src, "Tensor::assign (source)");
  // Element-by-element copying between overlapping views would read values it has
  // already overwritten, so an aliasing source is copied out first.
  const Tensor source = src.shares_storage_with(*this) ? src.copy() : src;
  Tensor from;
  try {
    from = source.broadcast_to(shape_);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(fmt::format("Tensor::assign: the source shape {} does not broadcast to the destination shape {}",
                                            shape_str(src.shape_), shape_str(shape_)));
  }
  if (from.dtype_ == dtype_ && from.is_contiguous() && is_contiguous()) {
    std::memcpy(raw_data(), from.raw_data(), nbytes());
    return;
  }
  visit_dtype(dtype_, [&](auto dst_tag) {
    using D = decltype(dst_tag);
    D* dst = static_cast<D*>(raw_data());
    visit_dtype(from.dtype_, [&](auto src_tag) {
      using S = decltype(src_tag);
      const S* s = static_cast<const S*>(from.raw_data());
      walk_pair(shape_, strides_, from.strides_, [&](std::int64_t a, std::int64_t b) { dst[a] = value_cast<D>(s[b]); });
    });
  });
}

void Tensor::fill(double value) {
  visit_dtype(dtype_, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(raw_data());
    const T v = value_cast<T>(value);
    walk(shape_, strides_, [&](std::int64_t a) { p[a] = v; });
  });
}

// --- comparison and printing ---------------------------------------------------------------

bool Tensor::equal(const Tensor& other) const {
  if (!defined() || !other.defined()) return defined() == other.defined();
  if (dtype_ != other.dtype_ || shape_ != other.shape_) return false;
  bool same = true;
  visit_dtype(dtype_, [&](auto tag) {
    using T = decltype(tag);
    const T* a = static_cast<const T*>(raw_data());
    const T* b = static_cast<const T*>(other.raw_data());
    walk_pair(shape_, strides_, other.strides_, [&](std::int64_t i, std::int64_t j) { same = same && a[i] == b[j]; });
  });
  return same;
}


}  // namespace graphjit

// The runtime tensor: dtypes, storage, views, copies, conversion and printing.
#include <doctest/doctest.h>

#include <graphjit/runtime/dtype.hpp>
#include <graphjit/runtime/format.hpp>
#include <graphjit/runtime/tensor.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

using namespace graphjit;

namespace {

// The 2x3 matrix [[0 1 2] [3 4 5]] as float64.
Tensor matrix_2x3() { return Tensor::arange(6, float64).reshape({2, 3}); }

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

// --- dtypes --------------------------------------------------------------------

TEST_CASE("dtype sizes, names and kinds") {
  CHECK(dtype_size(bool_) == 1);
  CHECK(dtype_size(int16) == 2);
  CHECK(dtype_size(int32) == 4);
  CHECK(dtype_size(int64) == 8);
  CHECK(dtype_size(float32) == 4);
  CHECK(dtype_size(float64) == 8);
  CHECK(std::string(dtype_name(float64)) == "float64");
  CHECK(std::string(dtype_name(bool_)) == "bool");
  CHECK(std::string(dtype_name(uint8)) == "uint8");
  for (DType t : {bool_, int8, int16, int32, int64, uint8, float32, float64}) CHECK(dtype_from_name(dtype_name(t)) == t);
  CHECK_THROWS_AS(dtype_from_name("float16"), std::invalid_argument);
  CHECK(message_of([] { dtype_from_name("double"); }).find("float64") != std::string::npos);
  CHECK(is_float(float32));
  CHECK_FALSE(is_float(int64));
  CHECK(is_integer(bool_));
  CHECK(is_integer(uint8));
  CHECK_FALSE(is_integer(float64));
}

TEST_CASE("promote follows numpy on every listed pair, in either order") {
  struct Row {
    DType a, b, result;
  };
  const Row table[] = {
      {bool_, bool_, bool_},       {bool_, int8, int8},         {bool_, uint8, uint8},
      {bool_, float32, float32},   {int8, int16, int16},        {int8, int64, int64},
      {int32, int16, int32},       {uint8, int8, int16},        {uint8, int16, int16},
      {uint8, int32, int32},       {uint8, int64, int64},       {int8, float32, float32},
      {int16, float32, float32},   {uint8, float32, float32},   {int32, float32, float64},
      {int64, float32, float64},   {int64, float64, float64},   {float32, float64, float64},
      {float32, float32, float32},
  };
  for (const Row& r : table) {
    CAPTURE(dtype_name(r.a));
    CAPTURE(dtype_name(r.b));
    CHECK(promote(r.a, r.b) == r.result);
    CHECK(promote(r.b, r.a) == r.result);
  }
}

TEST_CASE("value_cast truncates, saturates and maps NaN to 0") {
  CHECK(value_cast<std::int32_t>(2.9) == 2);
  CHECK(value_cast<std::int32_t>(-2.9) == -2);
  CHECK(value_cast<std::int8_t>(1000.0) == 127);
  CHECK(value_cast<std::uint8_t>(-5.0) == 0);
  CHECK(value_cast<std::int64_t>(1e30) == std::numeric_limits<std::int64_t>::max());
  CHECK(value_cast<std::int32_t>(std::nan("")) == 0);
  CHECK(value_cast<bool>(0.25) == true);
  CHECK(value_cast<bool>(0) == false);
}

// --- shapes and storage ----------------------------------------------------------------

TEST_CASE("shape helpers") {
  CHECK(shape_str({500, 784}) == "(500, 784)");
  CHECK(shape_str({3}) == "(3,)");
  CHECK(shape_str({}) == "()");
  CHECK(shape_numel({2, 3, 4}) == 24);
  CHECK(shape_numel({}) == 1);
  CHECK(shape_numel({5, 0}) == 0);
  CHECK(contiguous_strides({2, 3, 4}) == Strides{12, 4, 1});
  CHECK(contiguous_strides({}).empty());
}

TEST_CASE("storage is 64-byte aligned and zero-filled") {
  for (std::int64_t n : {0, 1, 3, 17, 1000}) {
    for (DType t : {bool_, int32, float64}) {
      Tensor z = Tensor::empty({n}, t);
      CHECK(reinterpret_cast<std::uintptr_t>(z.storage()->data()) % 64 == 0);
      CHECK(z.storage()->bytes() == static_cast<std::size_t>(n) * dtype_size(t));
      for (double v : z.to_vector<double>()) CHECK(v == 0);
    }
  }
}

TEST_CASE("construction") {
  Tensor v{1.5, 2.5, 3.5};
  CHECK(v.dtype() == float64);
  CHECK(v.shape() == Shape{3});
  CHECK(v.to_vector<double>() == std::vector<double>{1.5, 2.5, 3.5});
  CHECK(Tensor{7.0}.shape() == Shape{1});  // an initializer list is always a vector

  Tensor s = Tensor::scalar<std::int32_t>(42);
  CHECK(s.ndim() == 0);
  CHECK(s.dtype() == int32);
  CHECK(s.item<double>() == 42);

  Tensor f = Tensor::full({2, 2}, 2.75, int32);
  CHECK(f.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 2, 2, 2});

  Tensor r = Tensor::arange(4, float32);
  CHECK(r.dtype() == float32);
  CHECK(r.to_vector<float>() == std::vector<float>{0, 1, 2, 3});
  CHECK(Tensor::arange(3).dtype() == int64);
  CHECK_THROWS_AS(Tensor::arange(-1), std::invalid_argument);

  Tensor m = Tensor::from_vector(std::vector<std::int16_t>{1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(m.dtype() == int16);
  CHECK(m.strides() == Strides{2, 1});
  CHECK(m.at<int>({2, 1}) == 6);
  CHECK(message_of([] { Tensor::from_vector(std::vector<double>{1, 2, 3}, {2, 2}); }).find("(2, 2)") != std::string::npos);
  CHECK_THROWS_AS(Tensor::empty({2, -1}, float64), std::invalid_argument);

  Tensor undefined;
  CHECK_FALSE(undefined.defined());
  CHECK_THROWS_AS(undefined.raw_data(), std::invalid_argument);
  CHECK_THROWS_AS(undefined.transpose(), std::invalid_argument);
}

TEST_CASE("a view must stay inside its storage") {
  Tensor base = Tensor::zeros({4}, float64);
  CHECK_THROWS_AS(Tensor(base.storage(), float64, {3}, {2}, 0), std::out_of_range);
  CHECK_THROWS_AS(Tensor(base.storage(), float64, {2}, {-1}, 0), std::out_of_range);
  CHECK_THROWS_AS(Tensor(base.storage(), float64, {2, 2}, {1}, 0), std::invalid_argument);
  Tensor reversed(base.storage(), float64, {4}, {-1}, 3);
  base.set({0}, 9);
  CHECK(reversed.get({3}) == 9);
}

TEST_CASE("element access with negative indices and checked bounds") {
  Tensor m = matrix_2x3();
  CHECK(m.at<double>({1, 2}) == 5);
  CHECK(m.at<double>({-1, -3}) == 3);
  m.set({0, -1}, 20);
  CHECK(m.get({0, 2}) == 20);
  const std::string msg = message_of([&] { m.get({0, 3}); });
  CHECK(msg.find("index 3") != std::string::npos);
  CHECK(msg.find("axis 1") != std::string::npos);
  CHECK(msg.find("(2, 3)") != std::string::npos);
  CHECK_THROWS_AS(m.get({2, 0}), std::out_of_range);
  CHECK_THROWS_AS(m.get({0}), std::invalid_argument);
  CHECK_THROWS_AS(m.data<float>(), std::invalid_argument);
  CHECK(m.data<double>() == m.raw_data());
  CHECK(m.shape(-1) == 3);
  CHECK_THROWS_AS(m.shape(2), std::out_of_range);
}

TEST_CASE("item() needs exactly one element") {
  CHECK(Tensor{3.0}.item<int>() == 3);
  CHECK(matrix_2x3().slice(1, 2, 3).slice(0, 1, 2).item<double>() == 5);
  CHECK_THROWS_AS(Tensor({1.0, 2.0}).item<double>(), std::invalid_argument);
  CHECK(message_of([] { matrix_2x3().item<double>(); }).find("(2, 3)") != std::string::npos);
}

// --- views -----------------------------------------------------------------------

TEST_CASE("slice with positive steps") {
  Tensor v = Tensor::arange(10, float64);
  Tensor s = v.slice(0, 2, 8, 3);
  CHECK(s.to_vector<int>() == std::vector<int>{2, 5});
  CHECK(s.strides() == Strides{3});
  CHECK(s.offset() == 2);
  CHECK(s.shares_storage_with(v));
  CHECK(v.slice(0, -3, 100).to_vector<int>() == std::vector<int>{7, 8, 9});
  CHECK(v.slice(0, 5, 2).size() == 0);
  CHECK(v.slice(0, -100, 2).to_vector<int>() == std::vector<int>{0, 1});
  CHECK_THROWS_AS(v.slice(0, 0, 5, 0), std::invalid_argument);
  CHECK_THROWS_AS(v.slice(1, 0, 5), std::out_of_range);
}

TEST_CASE("slice with negative steps normalises like Python") {
  Tensor v = Tensor::arange(6, int32);
  const auto begin = std::numeric_limits<std::int64_t>::min();
  CHECK(v.slice(0, -1, begin, -1).to_vector<int>() == std::vector<int>{5, 4, 3, 2, 1, 0});  // v[::-1]
  CHECK(v.slice(0, 100, begin, -2).to_vector<int>() == std::vector<int>{5, 3, 1});        // v[100::-2]
  CHECK(v.slice(0, 4, 1, -1).to_vector<int>() == std::vector<int>{4, 3, 2});             // v[4:1:-1]
  CHECK(v.slice(0, 4, -1, -1).size() == 0);  // v[4:-1:-1]: -1 is the last element
  CHECK(v.slice(0, 1, 4, -1).size() == 0);
  Tensor r = v.slice(0, 5, begin, -2);
  CHECK(r.strides() == Strides{-2});
  CHECK(r.offset() == 5);
  CHECK(v.slice(0, 0, begin, begin).to_vector<int>() == std::vector<int>{0});
}

TEST_CASE("select, transpose and permute") {
  Tensor m = matrix_2x3();
  Tensor row = m.select(0, 1);
  CHECK(row.shape() == Shape{3});
  CHECK(row.to_vector<int>() == std::vector<int>{3, 4, 5});
  Tensor col = m.select(1, -1);
  CHECK(col.to_vector<int>() == std::vector<int>{2, 5});
  CHECK(col.strides() == Strides{3});
  CHECK_THROWS_AS(m.select(1, 3), std::out_of_range);

  Tensor t = m.transpose();
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.strides() == Strides{1, 3});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.to_vector<int>() == std::vector<int>{0, 3, 1, 4, 2, 5});

  Tensor c = Tensor::arange(24, float64).reshape({2, 3, 4});
  Tensor p = c.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Strides{1, 12, 4});
  CHECK(p.at<int>({3, 1, 2}) == c.at<int>({1, 2, 3}));
  CHECK(c.permute({0, -1, 1}).shape() == Shape{2, 4, 3});
  CHECK_THROWS_AS(c.permute({0, 1}), std::invalid_argument);
  CHECK_THROWS_AS(c.permute({0, 1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(c.permute({0, 1, 3}), std::out_of_range);
}

TEST_CASE("broadcast_to makes stride-0 views") {
  Tensor v{1, 2, 3};
  Tensor b = v.broadcast_to({2, 3});
  CHECK(b.strides() == Strides{0, 1});
  CHECK(b.to_vector<int>() == std::vector<int>{1, 2, 3, 1, 2, 3});
  Tensor colv = v.reshape({3, 1}).broadcast_to({3, 2});
  CHECK(colv.strides() == Strides{1, 0});
  CHECK(colv.to_vector<int>() == std::vector<int>{1, 1, 2, 2, 3, 3});
  CHECK(Tensor::scalar(5.0).broadcast_to({2, 2}).to_vector<int>() == std::vector<int>{5, 5, 5, 5});
  const std::string msg = message_of([&] { v.broadcast_to({2, 4}); });
  CHECK(msg.find("(3,)") != std::string::npos);
  CHECK(msg.find("(2, 4)") != std::string::npos);
  CHECK_THROWS_AS(matrix_2x3().broadcast_to({3}), std::invalid_argument);
}

TEST_CASE("expand_dims and squeeze") {
  Tensor m = matrix_2x3();
  CHECK(m.expand_dims(0).shape() == Shape{1, 2, 3});
  CHECK(m.expand_dims(-1).shape() == Shape{2, 3, 1});
  CHECK(m.expand_dims(1).shape() == Shape{2, 1, 3});
  CHECK(m.expand_dims(1).is_contiguous());
  CHECK_THROWS_AS(m.expand_dims(4), std::out_of_range);
  CHECK(m.expand_dims(1).squeeze(1).shape() == Shape{2, 3});
  CHECK_THROWS_AS(m.squeeze(0), std::invalid_argument);
}

TEST_CASE("reshape is a view when the layout allows and a copy otherwise") {
  Tensor m = matrix_2x3();
  Tensor flat = m.reshape({-1});
  CHECK(flat.shape() == Shape{6});
  CHECK(flat.shares_storage_with(m));
  CHECK(m.reshape({3, -1}).shape() == Shape{3, 2});

  // Rows of a wider matrix stay a view: each row is still contiguous.
  Tensor wide = Tensor::arange(20, float64).reshape({4, 5});
  Tensor cols = wide.slice(1, 0, 4);
  Tensor split = cols.reshape({4, 2, 2});
  CHECK(split.shares_storage_with(wide));
  CHECK(split.strides() == Strides{5, 2, 1});
  CHECK(split.to_vector<int>() == cols.to_vector<int>());
  // ...but flattening them needs a copy.
  Tensor merged = cols.reshape({16});
  CHECK_FALSE(merged.shares_storage_with(wide));
  CHECK(merged.to_vector<int>() == cols.to_vector<int>());

  Tensor t = m.transpose();
  Tensor tf = t.reshape({6});
  CHECK_FALSE(tf.shares_storage_with(m));
  CHECK(tf.to_vector<int>() == std::vector<int>{0, 3, 1, 4, 2, 5});

  // A broadcast axis can be split but not merged with its neighbour.
  Tensor b = Tensor{1, 2, 3}.broadcast_to({4, 3});
  CHECK(b.reshape({2, 2, 3}).shares_storage_with(b));
  CHECK(b.reshape({2, 2, 3}).strides() == Strides{0, 0, 1});
  CHECK_FALSE(b.reshape({12}).shares_storage_with(b));

  CHECK(Tensor::zeros({0, 3}, float64).reshape({-1, 3}).shape() == Shape{0, 3});
  CHECK_THROWS_AS(m.reshape({4, -1}), std::invalid_argument);
  CHECK_THROWS_AS(m.reshape({-1, -1}), std::invalid_argument);
  CHECK(message_of([&] { m.reshape({7}); }).find("(2, 3)") != std::string::npos);
}

TEST_CASE("writes through a view are seen by the base") {
  Tensor m = matrix_2x3();
  m.transpose().set({2, 1}, 100);
  CHECK(m.get({1, 2}) == 100);
  m.select(0, 0).fill(-1);
  CHECK(m.to_vector<int>() == std::vector<int>{-1, -1, -1, 3, 4, 100});
  m.slice(1, 0, 3, 2).assign(Tensor{7, 8});
  CHECK(m.to_vector<int>() == std::vector<int>{7, -1, 8, 7, 4, 8});
  Tensor c = m.copy();
  c.fill(0);
  CHECK(m.get({0, 0}) == 7);
}

// --- new storage ------------------------------------------------------------------

TEST_CASE("copy and contiguous") {
  Tensor t = matrix_2x3().transpose();
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK_FALSE(c.shares_storage_with(t));
  CHECK(c.strides() == Strides{2, 1});
  CHECK(c.equal(t));
  Tensor m = matrix_2x3();
  CHECK(m.contiguous().shares_storage_with(m));
  CHECK(m.slice(0, 0, 1).is_contiguous());
  CHECK_FALSE(m.slice(1, 0, 2).is_contiguous());
}

TEST_CASE("astype converts like numpy") {
  Tensor f{-1.7, 0.0, 0.5, 2.9, 300.0};
  CHECK(f.astype(int32).to_vector<int>() == std::vector<int>{-1, 0, 0, 2, 300});
  CHECK(f.astype(uint8).to_vector<int>() == std::vector<int>{0, 0, 0, 2, 255});
  CHECK(f.astype(bool_).to_vector<bool>() == std::vector<bool>{true, false, true, true, true});
  CHECK(f.astype(float32).dtype() == float32);
  CHECK(f.astype(float32).to_vector<float>()[3] == 2.9f);
  Tensor i = Tensor::arange(4, int64);
  CHECK(i.astype(float64).equal(Tensor{0, 1, 2, 3}));
  CHECK(i.astype(bool_).to_vector<bool>() == std::vector<bool>{false, true, true, true});
  CHECK(Tensor::from_vector(std::vector<std::uint8_t>{250, 7}).astype(int8).to_vector<int>() == std::vector<int>{-6, 7});
  Tensor strided = matrix_2x3().transpose().astype(int16);
  CHECK(strided.is_contiguous());
  CHECK(strided.to_vector<int>() == std::vector<int>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("assign broadcasts, converts and survives overlap") {
  Tensor m = Tensor::zeros({2, 3}, int32);
  m.assign(Tensor{1.9, 2.9, 3.9});
  CHECK(m.to_vector<int>() == std::vector<int>{1, 2, 3, 1, 2, 3});
  m.assign(Tensor::scalar<bool>(true));
  CHECK(m.to_vector<int>() == std::vector<int>(6, 1));
  const std::string msg = message_of([&] { m.assign(Tensor{1, 2}); });
  CHECK(msg.find("(2,)") != std::string::npos);
  CHECK(msg.find("(2, 3)") != std::string::npos);

  Tensor v = Tensor::arange(6, float64);
  v.slice(0, 1, 6).assign(v.slice(0, 0, 5));  // v[1:] = v[:-1]
  CHECK(v.to_vector<int>() == std::vector<int>{0, 0, 1, 2, 3, 4});
  Tensor sq = Tensor::arange(4, float64).reshape({2, 2});
  sq.assign(sq.transpose());
  CHECK(sq.to_vector<int>() == std::vector<int>{0, 2, 1, 3});
}

TEST_CASE("from_external borrows memory and keeps its owner alive") {
  auto destroyed = std::make_shared<bool>(false);
  struct Buffer {
    std::vector<double> values{1, 2, 3, 4, 5, 6};
    std::shared_ptr<bool> destroyed;
    ~Buffer() { *destroyed = true; }
  };
  auto buffer = std::make_shared<Buffer>();
  buffer->destroyed = destroyed;
  double* data = buffer->values.data();
  Tensor t = Tensor::from_external(data, {2, 3}, float64, {}, buffer);
  Tensor view = t.transpose().slice(0, 1, 3);
  t = Tensor();
  buffer.reset();
  CHECK_FALSE(*destroyed);
  CHECK(view.raw_data() == data + 1);
  CHECK(view.to_vector<int>() == std::vector<int>{2, 5, 3, 6});
  view.set({0, 0}, 20);
  CHECK(data[1] == 20);  // the memory is shared, not copied
  view = Tensor();
  CHECK(*destroyed);

  // Negative strides reach below the pointer, which is the first element.
  double reversed[4] = {1, 2, 3, 4};
  Tensor r = Tensor::from_external(reversed + 3, {4}, float64, {-1});
  CHECK(r.to_vector<int>() == std::vector<int>{4, 3, 2, 1});
  CHECK_THROWS_AS(Tensor::from_external(nullptr, {2}, float64), std::invalid_argument);
}

TEST_CASE("equal compares dtype, shape and every value") {
  Tensor m = matrix_2x3();
  CHECK(m.equal(m.copy()));
  CHECK(m.transpose().transpose().equal(m));
  CHECK_FALSE(m.equal(m.astype(float32)));
  CHECK_FALSE(m.equal(m.reshape({3, 2})));
  Tensor n = m.copy();
  n.set({1, 2}, 5.5);
  CHECK_FALSE(m.equal(n));
  CHECK(Tensor().equal(Tensor()));
  CHECK_FALSE(Tensor().equal(m));
}

// --- printing -------------------------------------------------------------------

// The full comparison with numpy's own output is tests/test_tensor_print.cpp.
TEST_CASE("to_string and fmt print like numpy") {
  Tensor m = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
  CHECK(fmt::format("{}", m) == "[[1. 2.]\n [3. 4.]]");
  CHECK(fmt::format("{}", Tensor{0.5, -2, 10}) == "[ 0.5 -2.  10. ]");
  CHECK(fmt::format("{}", Tensor::arange(3, int32)) == "[0 1 2]");
  CHECK(fmt::format("{}", Tensor::arange(3, float64).astype(bool_)) == "[False  True  True]");
  CHECK(fmt::format("{}", Tensor::scalar(2.5)) == "2.5");
  CHECK(fmt::format("{}", Tensor{1e20, std::nan("")}) == "[1.e+20    nan]");
  CHECK(fmt::format("{}", Tensor::arange(8, int64).reshape({2, 2, 2})) ==
        "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]");
  CHECK(fmt::format("{}", Tensor::zeros({0, 3}, float64)) == "[]");
  CHECK(fmt::format("{}", Tensor()) == "Tensor(undefined)");
  CHECK(fmt::format("{}", matrix_2x3().transpose()) == "[[0. 3.]\n [1. 4.]\n [2. 5.]]");

  const std::string big = fmt::format("{}", Tensor::arange(2000, int64).reshape({40, 50}));
  CHECK(big.find("...") != std::string::npos);
  CHECK(big.rfind("[   0    1    2 ...   47   48   49]", 1) == 1);
  CHECK(big.find("1999]]") != std::string::npos);
  CHECK(big.size() < 600);

  CHECK(fmt::format("{}", float32) == "float32");
  CHECK(fmt::format("[{:>6}]", int8) == "[  int8]");
}

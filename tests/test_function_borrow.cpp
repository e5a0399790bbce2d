// Out(x, borrow=true) (graphjit/function.hpp): a borrowed result that lives
// in memory the caller does not own (a shared variable's, an argument's,
// another result's) comes back without a copy, in every mode; without
// borrow it is copied; and a borrowed value an update overwrites in place
// is still copied, so it is the value from before the call.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::Out;
using graphjit::Tensor;

namespace {
const Mode kModes[] = {Mode::fast_run, Mode::fast_compile, Mode::debug, Mode::reference};
}

TEST_CASE("a borrowed shared value is the shared variable's own tensor; without borrow it is a copy") {
  for (Mode mode : kModes) {
    CAPTURE(static_cast<int>(mode));
    auto w = graphjit::shared(std::vector<double>{1, 2, 3}, "w");
    const Tensor held = w.get_value(true);
    auto borrowed = graphjit::function({}, Out(w, true), {.mode = mode});
    auto copied = graphjit::function({}, Out(w, false), {.mode = mode});
    const Tensor b = borrowed();
    const Tensor c = copied();
    CHECK(b.raw_data() == held.raw_data());
    CHECK(c.raw_data() != held.raw_data());
    CHECK_FALSE(c.shares_storage_with(held));
    CHECK(c.to_vector<double>() == std::vector<double>{1, 2, 3});
  }
}

TEST_CASE("a borrowed view of a shared variable aliases it; the copy does not change when the variable does") {
  auto w = graphjit::shared(Tensor::arange(6, graphjit::float64).reshape({2, 3}), "w");
  auto borrowed = graphjit::function({}, Out(w.T(), true));
  auto copied = graphjit::function({}, w.T());
  const Tensor b = borrowed();
  const Tensor c = copied();
  CHECK(b.shares_storage_with(w.get_value(true)));
  CHECK(b.shape() == graphjit::Shape{3, 2});
  // Writing the variable's memory (what an in-place update of another
  // function does) shows through the borrowed result only.
  w.get_value(true).assign(Tensor::zeros({2, 3}, graphjit::float64));
  CHECK(b.to_vector<double>() == std::vector<double>(6, 0.0));
  CHECK(c.to_vector<double>() == std::vector<double>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("a borrowed argument comes back as the argument itself") {
  auto x = T::dvector("x");
  const Tensor arg = Tensor::from_vector(std::vector<double>{4, 5});
  auto borrowed = graphjit::function({x}, Out(x, true));
  auto copied = graphjit::function({x}, x);
  CHECK(borrowed(arg).only().raw_data() == arg.raw_data());
  CHECK_FALSE(copied(arg).only().shares_storage_with(arg));
}

TEST_CASE("two outputs of one value: the borrowed second one aliases the first, the plain one is copied") {
  auto x = T::dvector("x");
  auto y = T::exp(x);
  auto borrowed = graphjit::function({x}, {y, Out(y, true)});
  auto copied = graphjit::function({x}, {y, y});
  const Tensor arg = Tensor::from_vector(std::vector<double>{0, 1});
  const auto b = borrowed(arg);
  const auto c = copied(arg);
  CHECK(b[1].raw_data() == b[0].raw_data());
  CHECK_FALSE(c[1].shares_storage_with(c[0]));
  CHECK(c[1].equal(c[0]));
}

TEST_CASE("a borrowed shared value updated in place by the same call is still the value from before") {
  for (Mode mode : kModes) {
    CAPTURE(static_cast<int>(mode));
    auto w = graphjit::shared(std::vector<double>{1, 2, 3}, "w");
    auto step = graphjit::function({}, Out(w, true), {.updates = {{w, w * 2.0}}, .mode = mode});
    CHECK(step().to_vector<double>() == std::vector<double>{1, 2, 3});
    CHECK(w.get_value().to_vector<double>() == std::vector<double>{2, 4, 6});
    CHECK(step().to_vector<double>() == std::vector<double>{2, 4, 6});
  }
}

TEST_CASE("a borrowed shared value whose update is not in place keeps the old value's memory") {
  auto w = graphjit::shared(std::vector<double>{1, 2, 3}, "w");
  auto v = graphjit::shared(std::vector<double>{7, 8, 9}, "v");
  // v's update is v's old value of w: the borrowed w is the tensor w held
  // before the call, which the update replaced rather than overwrote.
  auto swap = graphjit::function({}, Out(w, true), {.updates = {{w, v + 0.0}, {v, w + 0.0}}});
  const Tensor before = w.get_value(true);
  const Tensor b = swap();
  CHECK(b.to_vector<double>() == std::vector<double>{1, 2, 3});
  CHECK(w.get_value().to_vector<double>() == std::vector<double>{7, 8, 9});
  CHECK(v.get_value().to_vector<double>() == std::vector<double>{1, 2, 3});
  (void)before;
}

TEST_CASE("a computed result is new memory each call, borrowed or not") {
  auto x = T::dvector("x");
  auto f = graphjit::function({x}, Out(x * 2.0, true));
  const Tensor arg = Tensor::from_vector(std::vector<double>{1, 2});
  const Tensor first = f(arg);
  const Tensor second = f(arg);
  CHECK_FALSE(first.shares_storage_with(second));
  CHECK_FALSE(first.shares_storage_with(arg));
  CHECK(first.to_vector<double>() == std::vector<double>{2, 4});
}

TEST_CASE("what a borrowed shared value is valid until: another function's in-place update overwrites it") {
  auto w = graphjit::shared(std::vector<double>{1, 2, 3}, "w");
  auto read = graphjit::function({}, Out(w, true));
  auto read_copy = graphjit::function({}, w);
  auto twice = graphjit::function({}, T::sum(w), {.updates = {{w, w * 2.0}}});
  const Tensor borrowed = read();
  const Tensor copied = read_copy();
  twice();  // writes w's memory in place (w is not one of its outputs)
  CHECK(w.get_value().to_vector<double>() == std::vector<double>{2, 4, 6});
  CHECK(borrowed.to_vector<double>() == std::vector<double>{2, 4, 6});
  CHECK(copied.to_vector<double>() == std::vector<double>{1, 2, 3});
}

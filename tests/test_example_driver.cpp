// The examples' shared driver (examples/example_driver.hpp): the flags the
// LeNet race uses to give every system the same batches (--order) and a
// short smoke run (--train-rows), and the checks on what they are given.
#include <doctest/doctest.h>

#include "examples/example_driver.hpp"
#include "temp_dir.hpp"
#include "thrown_message.hpp"

#include <graphjit/runtime/npz.hpp>

using graphjit::testing::contains;
using graphjit::testing::thrown_message;

namespace {

seed::Options options_with_order(const std::string& path, int epochs) {
  seed::Options o;
  o.order = path;
  o.epochs = epochs;
  return o;
}

}  // namespace

TEST_CASE("--order: the reshuffle after epoch e is row e-1 of the file") {
  graphjit::testing::TempDir dir;
  const std::string path = dir.file("order.npy");
  graphjit::save_npy(path, graphjit::Tensor::from_vector<std::int64_t>({2, 0, 1, 3, 1, 2, 3, 0}, {2, 4}));
  seed::Reshuffles reshuffles(options_with_order(path, 3), 4);
  CHECK(reshuffles.after_epoch(1) == std::vector<std::int64_t>{2, 0, 1, 3});
  CHECK(reshuffles.after_epoch(2) == std::vector<std::int64_t>{1, 2, 3, 0});
}

TEST_CASE("without --order the reshuffles are drawn from --seed + 1, as before") {
  seed::Options o;
  o.seed = 7;
  seed::Reshuffles reshuffles(o, 50);
  graphjit::RandomState same(8);
  CHECK(reshuffles.after_epoch(1) == same.permutation(50));
  CHECK(reshuffles.after_epoch(2) == same.permutation(50));
}

TEST_CASE("--order files that cannot be the reshuffles are refused, naming the file and the need") {
  graphjit::testing::TempDir dir;
  const std::string path = dir.file("order.npy");
  auto message_for = [&](const graphjit::Tensor& orders, int epochs, std::int64_t rows) {
    graphjit::save_npy(path, orders);
    return thrown_message([&] { seed::Reshuffles(options_with_order(path, epochs), rows); });
  };
  const auto one_row = graphjit::Tensor::from_vector<std::int64_t>({0, 1, 2, 3}, {1, 4});
  const std::string too_few = message_for(one_row, 3, 4);  // 3 epochs need 2 reshuffles
  CHECK(contains(too_few, path));
  CHECK(contains(too_few, "(at least 2, 4)"));
  CHECK(contains(message_for(one_row, 2, 5), "(at least 1, 5)"));  // rows of another training set
  CHECK(contains(message_for(one_row.astype(graphjit::float64), 2, 4), "integer array"));
  const std::string repeated = message_for(graphjit::Tensor::from_vector<std::int64_t>({0, 1, 1, 3}, {1, 4}), 2, 4);
  CHECK(contains(repeated, "row 0 is not a permutation of 0..3"));
  CHECK(contains(message_for(graphjit::Tensor::from_vector<std::int64_t>({0, 1, 4, 3}, {1, 4}), 2, 4),
                 "not a permutation"));
}

TEST_CASE("--train-rows keeps the first N training images and refuses more than there are") {
  graphjit::Split train{graphjit::Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}),
                        graphjit::Tensor::from_vector<std::int32_t>({7, 8, 9}, {3})};
  CHECK(contains(thrown_message([&] { seed::keep_first_rows(train, 4); }), "only 3 images"));
  seed::keep_first_rows(train, 0);  // 0: all
  CHECK(train.x.shape(0) == 3);
  seed::keep_first_rows(train, 2);
  CHECK(train.x.to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(train.y.to_vector<std::int32_t>() == std::vector<std::int32_t>{7, 8});
}

TEST_CASE("the flags parse, and a negative --train-rows is refused") {
  const seed::ExampleSpec spec{.program = "lenet", .models = {"lenet"}};
  std::vector<std::string> args = {"lenet", "--order", "o.npy", "--train-rows", "1000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  const seed::Options o = seed::parse(static_cast<int>(argv.size()), argv.data(), spec);
  CHECK(o.order == "o.npy");
  CHECK(o.train_rows == 1000);
  args.back() = "-1";
  argv.clear();
  for (auto& a : args) argv.push_back(a.data());
  CHECK(contains(thrown_message([&] { seed::parse(static_cast<int>(argv.size()), argv.data(), spec); }),
                 "--train-rows"));
}

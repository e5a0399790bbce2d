// The examples' --orders FILE.npz (example_driver.hpp): the reshuffle after
// epoch e is array "epoch<e>" of the file, so that benchmarks/race.py can give
// graphjit and its peers the same data order; a missing epoch is a clear error.
#include <doctest/doctest.h>

#include "examples/example_driver.hpp"
#include "tests/temp_dir.hpp"

#include <graphjit/runtime/npz.hpp>

#include <stdexcept>
#include <vector>

TEST_CASE("--orders: epoch e's reshuffle is array epoch<e>, read as int64 whatever its dtype") {
  graphjit::testing::TempDir dir;
  const std::string path = dir.file("orders.npz");
  // race.py writes float64 (what the LibTorch peers' reader takes).
  graphjit::save_npz(path, {{"epoch1", graphjit::Tensor::from_vector(std::vector<double>{2, 0, 1})},
                            {"epoch2", graphjit::Tensor::from_vector(std::vector<std::int64_t>{1, 2, 0})}});
  CHECK(seed::given_order(path, 1) == std::vector<std::int64_t>{2, 0, 1});
  CHECK(seed::given_order(path, 2) == std::vector<std::int64_t>{1, 2, 0});
  try {
    seed::given_order(path, 3);
    FAIL("no error for a missing epoch");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("no array 'epoch3'") != std::string::npos);
  }
}

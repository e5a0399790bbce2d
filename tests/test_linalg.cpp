// Linear algebra (issue 8): T::dot of n-d tensors, tensordot, batched_dot,
// softmax / log_softmax / categorical_crossentropy over the last axis of n-d
// tensors, and the LAPACK ops (nlinalg: matrix_inverse, det, eigh; slinalg:
// solve, cholesky). Every result is computed in both modes (the reference
// oracle and fast_run, compared by testing::run). Expected values are NumPy
// 1.24.2's (python3-numpy), printed with repr() by /usr/bin/python3 running
// the expressions in the comment above each test.
#include <doctest/doctest.h>

#include "op_test_support.hpp"
#include "thrown_message.hpp"

#include <graphjit/graphjit.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::float32;
using graphjit::float64;
using graphjit::int64;
using graphjit::Shape;
using graphjit::Tensor;
using graphjit::Variable;
using graphjit::testing::contains;
using graphjit::testing::random_tensor;
using graphjit::testing::range_tensor;
using graphjit::testing::run;
using graphjit::testing::tensor_of;
using graphjit::testing::thrown_message;

namespace {

void check_close(const Tensor& got, const Shape& shape, const std::vector<double>& want, double rel = 1e-12) {
  REQUIRE(graphjit::shape_str(got.shape()) == graphjit::shape_str(shape));
  const std::vector<double> v = got.to_vector<double>();
  REQUIRE(v.size() == want.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    INFO("element ", i, ": got ", v[i], ", want ", want[i]);
    CHECK(std::abs(v[i] - want[i]) <= rel * std::max(1.0, std::abs(want[i])));
  }
}

Tensor scaled(const Shape& shape, double divisor, double shift = 0) {
  Tensor t = range_tensor(shape);
  graphjit::for_each_index(shape, [&](const auto& i) { t.set(i, t.get(i) / divisor + shift); });
  return t;
}

// A random matrix plus n on the diagonal: well conditioned.
Tensor well_conditioned(std::int64_t n, std::uint64_t seed, graphjit::DType dtype = float64) {
  Tensor a = random_tensor({n, n}, seed, float64);
  for (std::int64_t i = 0; i < n; ++i) a.set({i, i}, a.get({i, i}) + static_cast<double>(n));
  return a.astype(dtype);
}

// m m^T + n I: symmetric positive definite, with eigenvalues spread apart.
Tensor spd(std::int64_t n, std::uint64_t seed, graphjit::DType dtype = float64) {
  const Tensor m = random_tensor({n, n}, seed, float64);
  Tensor s = Tensor::zeros({n, n}, float64);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double total = i == j ? static_cast<double>(n) * (1 + 0.5 * static_cast<double>(i)) : 0.0;
      for (std::int64_t k = 0; k < n; ++k) total += m.get({i, k}) * m.get({j, k});
      s.set({i, j}, total);
    }
  return s.astype(dtype);
}

const Tensor kSymmetric = tensor_of({4, 1, 2, 1, 5, 3, 2, 3, 6}, {3, 3});
const Tensor kGeneral = tensor_of({2, -1, 0.5, 1, 3, 2, 0, 1, 4}, {3, 3});

}  // namespace

// a = np.arange(24.).reshape(2, 3, 4) / 10; b = np.arange(40.).reshape(2, 4, 5) / 7
// m = np.arange(20.).reshape(4, 5) / 3; v = np.array([1., -2., 0.5, 3.])
// c = np.arange(24.).reshape(4, 3, 2) - 5
// np.dot(a, b), np.dot(a, m), np.dot(a, v), np.dot(np.arange(6.).reshape(2, 3), c)
TEST_CASE("T::dot of n-d tensors is numpy.dot: a's last axis against b's second-to-last") {
  const Variable a = T::tensor3("a"), b = T::tensor3("b"), m = T::matrix("m"), v = T::vector("v");
  const Tensor av = scaled({2, 3, 4}, 10);
  const auto out = run({a, b, m, v}, {T::dot(a, b), T::dot(a, m), T::dot(a, v)},
                       {av, scaled({2, 4, 5}, 7), scaled({4, 5}, 3), tensor_of({1, -2, 0.5, 3}, {4})});
  check_close(out[0], {2, 3, 2, 5},
              {1.0, 1.0857142857142856, 1.1714285714285713, 1.2571428571428571, 1.342857142857143, 2.7142857142857144,
               2.8000000000000003, 2.8857142857142857, 2.9714285714285715, 3.057142857142857, 2.714285714285714,
               3.0285714285714285, 3.3428571428571425, 3.6571428571428575, 3.9714285714285715, 9.0, 9.314285714285715,
               9.628571428571428, 9.942857142857143, 10.257142857142856, 4.428571428571429, 4.9714285714285715,
               5.514285714285714, 6.057142857142858, 6.6000000000000005, 15.285714285714286, 15.828571428571431,
               16.371428571428574, 16.914285714285718, 17.457142857142856, 6.142857142857143, 6.914285714285714,
               7.685714285714285, 8.457142857142857, 9.228571428571428, 21.57142857142857, 22.342857142857145,
               23.114285714285714, 23.885714285714286, 24.65714285714286, 7.857142857142858, 8.857142857142858,
               9.857142857142858, 10.857142857142858, 11.857142857142858, 27.857142857142858, 28.857142857142858,
               29.857142857142858, 30.857142857142858, 31.857142857142858, 9.571428571428571, 10.799999999999999,
               12.028571428571428, 13.257142857142858, 14.485714285714286, 34.14285714285714, 35.371428571428574,
               36.599999999999994, 37.82857142857143, 39.05714285714285});
  check_close(out[1], {2, 3, 5},
              {2.3333333333333335, 2.533333333333333, 2.7333333333333334, 2.933333333333333, 3.1333333333333337,
               6.333333333333333, 7.0666666666666655, 7.800000000000001, 8.533333333333331, 9.266666666666666,
               10.333333333333334, 11.6, 12.866666666666667, 14.133333333333333, 15.400000000000002, 14.333333333333336,
               16.133333333333333, 17.933333333333334, 19.733333333333334, 21.53333333333333, 18.333333333333336,
               20.666666666666664, 23.0, 25.333333333333332, 27.666666666666664, 22.333333333333336, 25.199999999999996,
               28.06666666666667, 30.93333333333333, 33.8});
  check_close(out[2], {2, 3}, {0.7999999999999999, 1.7999999999999996, 2.8000000000000003, 3.8, 4.8, 5.799999999999999});

  const Variable x = T::matrix("x"), c = T::tensor3("c");
  const auto row_times_stack = run({x, c}, {T::dot(x, c)}, {range_tensor({2, 3}), scaled({4, 3, 2}, 1, -5)});
  check_close(row_times_stack[0], {2, 4, 2},
              {-5.0, -2.0, 13.0, 16.0, 31.0, 34.0, 49.0, 52.0, -32.0, -20.0, 40.0, 52.0, 112.0, 124.0, 184.0, 196.0});
}

// x = np.arange(60.).reshape(3, 4, 5) / 11; y = np.arange(24.).reshape(4, 3, 2) - 7
// np.tensordot(x, y, [[1, 0], [0, 1]]); np.tensordot(x, np.arange(10.).reshape(5, 2), 1)
// p = np.arange(24.).reshape(3, 2, 4) / 5; q = np.arange(60.).reshape(3, 4, 5) - 20
// np.einsum('bij,bjk->bik', p, q); np.einsum('bij,bj->bi', p, np.arange(12.).reshape(3, 4))
TEST_CASE("tensordot with an axis count or axis lists, and batched_dot, match numpy") {
  const Variable x = T::tensor3("x"), y = T::tensor3("y"), z = T::matrix("z");
  const auto td = run({x, y, z}, {T::tensordot(x, y, {1, 0}, {0, 1}), T::tensordot(x, z, 1)},
                      {scaled({3, 4, 5}, 11), scaled({4, 3, 2}, 1, -7), range_tensor({5, 2})});
  check_close(td[0], {5, 2},
              {190.0, 220.0, 194.36363636363637, 225.45454545454544, 198.72727272727272, 230.9090909090909,
               203.0909090909091, 236.36363636363637, 207.45454545454547, 241.8181818181818});
  check_close(td[1], {3, 4, 2},
              {5.454545454545455, 6.363636363636363, 14.545454545454547, 17.727272727272727, 23.636363636363637,
               29.09090909090909, 32.72727272727273, 40.45454545454545, 41.81818181818181, 51.81818181818181,
               50.90909090909091, 63.18181818181818, 60.0, 74.54545454545455, 69.0909090909091, 85.9090909090909,
               78.18181818181819, 97.27272727272728, 87.27272727272727, 108.63636363636364, 96.36363636363637,
               120.00000000000001, 105.45454545454544, 131.36363636363637});

  const Variable p = T::tensor3("p"), q = T::tensor3("q"), r = T::matrix("r"), s = T::vector("s");
  const auto bd = run({p, q, r, s}, {T::batched_dot(p, q), T::batched_dot(p, r), T::batched_dot(s, q)},
                      {scaled({3, 2, 4}, 5), scaled({3, 4, 5}, 1, -20), range_tensor({3, 4}), tensor_of({1, 2, -1}, {3})});
  check_close(bd[0], {3, 2, 5},
              {-10.0, -8.8, -7.6000000000000005, -6.400000000000001, -5.2, -50.0, -45.6, -41.2, -36.8, -32.4, 62.0,
               69.6, 77.2, 84.80000000000001, 92.4, 86.0, 96.8, 107.6, 118.4, 129.2, 390.0, 404.0, 418.0, 432.0, 446.0,
               478.0, 495.20000000000005, 512.4000000000001, 529.6, 546.8});
  check_close(bd[1], {3, 2}, {2.8, 7.6, 42.8, 60.4, 134.0, 164.4});
  // A vector holds one scalar per batch element: batched_dot(s, q)[i] == s[i] * q[i].
  const Tensor q_values = scaled({3, 4, 5}, 1, -20);
  CHECK(bd[2].get({0, 1, 2}) == q_values.get({0, 1, 2}));
  CHECK(bd[2].get({1, 3, 4}) == 2 * q_values.get({1, 3, 4}));
  CHECK(bd[2].get({2, 0, 0}) == -q_values.get({2, 0, 0}));
}

TEST_CASE("tensordot: fast_run matches the reference on random inputs, strided views and both float dtypes") {
  for (graphjit::DType dtype : {float64, float32}) {
    const Variable a = T::tensor(dtype, {false, false, false}, "a"), b = T::tensor(dtype, {false, false, false}, "b");
    const Variable c = T::tensor(dtype, {false, false}, "c");
    // Views: a transposed and sliced with a step, b permuted; nothing contiguous.
    const Tensor a_view = random_tensor({6, 5, 8}, 11, dtype).permute({2, 0, 1}).slice(0, 0, 8, 2);  // (4, 6, 5)
    const Tensor b_view = random_tensor({5, 7, 6}, 12, dtype).permute({2, 0, 1});                    // (6, 5, 7)
    const Tensor c_view = random_tensor({7, 9}, 13, dtype).slice(1, 1, 9, 2);                        // (7, 4)
    run({a, b, c},
        {T::tensordot(a, b, {1, 2}, {0, 1}), T::tensordot(a, b, {2}, {1}), T::dot(b, c), T::tensordot(a, c, 0),
         T::batched_tensordot(a, a, {2}, {2}), T::batched_dot(b, b.dimshuffle({0, 2, 1}))},
        {a_view, b_view, c_view});
  }
  // Integers: exact sums of products, in int64.
  const Variable i = T::tensor(int64, {false, false, false}, "i"), j = T::tensor(int64, {false, false}, "j");
  const auto ints = run({i, j}, {T::dot(i, j)}, {range_tensor({2, 3, 4}, int64), range_tensor({4, 2}, int64)});
  CHECK(ints[0].dtype() == int64);
  CHECK(ints[0].get({1, 2, 1}) == 20 * 1 + 21 * 3 + 22 * 5 + 23 * 7);
}

TEST_CASE("verify_grad: n-d dot, tensordot with crossed axis pairs, batched products") {
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::dot(in[0], in[1]); },
                                      {random_tensor({2, 3, 4}, 1), random_tensor({5, 4, 2}, 2)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::dot(in[0], in[1]); },
                                      {random_tensor({3, 4}, 3), random_tensor({2, 4, 5}, 4)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::tensordot(in[0], in[1], {2, 0}, {0, 2}); },
                                      {random_tensor({3, 4, 5}, 5), random_tensor({5, 2, 3}, 6)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::tensordot(in[0], in[1], 0); },
                                      {random_tensor({2, 3}, 7), random_tensor({4}, 8)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::batched_dot(in[0], in[1]); },
                                      {random_tensor({3, 2, 4}, 9), random_tensor({3, 4, 5}, 10)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::batched_dot(in[0], in[1]); },
                                      {random_tensor({3, 4}, 11), random_tensor({3, 4}, 12)}));
  CHECK_NOTHROW(graphjit::verify_grad(
      [](const auto& in) { return T::batched_tensordot(in[0], in[1], {3, 1}, {1, 2}); },
      {random_tensor({2, 3, 2, 4}, 13), random_tensor({2, 4, 3, 2}, 14)}));
  // A broadcastable operand (a row): its gradient is summed back over the broadcast dim.
  const Variable row = T::tensor(float64, {true, false, false}, "row"), b = T::tensor3("b");
  const Variable cost = T::sum(T::sqr(T::tensordot(row, b, {2}, {1})));
  const Variable g = T::grad(cost, row);
  CHECK(g.broadcastable() == std::vector<bool>{true, false, false});
}

TEST_CASE("tensordot errors name the op, the shapes and the user's line") {
  const Variable a = T::tensor3("a"), b = T::tensor3("b");
  const std::string summed = thrown_message<graphjit::ShapeError>([&] {
    graphjit::function({a, b}, {T::tensordot(a, b, {1, 2}, {0, 1})})(range_tensor({2, 3, 4}), range_tensor({4, 3, 2}));
  });
  CHECK(contains(summed, "tensordot"));
  CHECK(contains(summed, "a's axis 1 has length 3 but b's axis 0 has length 4"));
  CHECK(contains(summed, "test_linalg.cpp"));
  CHECK(contains(summed, "(2, 3, 4)"));
  const std::string batches = thrown_message<graphjit::ShapeError>([&] {
    graphjit::function({a, b}, {T::batched_dot(a, b)})(range_tensor({2, 3, 4}), range_tensor({3, 4, 2}));
  });
  CHECK(contains(batches, "the batch sizes (axis 0) differ: 2 and 3"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::tensordot(a, b, {1, 2}, {0}); }), "2 axes of a"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::tensordot(a, b, {3}, {0}); }), "out of range"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::batched_tensordot(a, b, {0}, {1}); }), "batch axis"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::tensordot(a, b, 4); }), "axes=4"));
}

// x = np.arange(24.).reshape(2, 3, 4) / 5 - 2; t = np.array([[0, 3, 1], [2, 2, 0]])
// e = np.exp(x - x.max(-1, keepdims=True)); sm = e / e.sum(-1, keepdims=True); np.log(sm)
// -np.log(np.take_along_axis(sm, t[..., None], -1))[..., 0]
TEST_CASE("softmax, log_softmax and categorical_crossentropy work over the last axis of a (T, B, C) tensor") {
  const Variable x = T::tensor3("x");
  const Variable t = T::tensor(int64, {false, false}, "t");
  const auto out = run({x, t},
                       {T::nnet::softmax(x), T::nnet::log_softmax(x),
                        T::nnet::categorical_crossentropy(T::nnet::softmax(x), t)},
                       {scaled({2, 3, 4}, 5, -2), tensor_of({0, 3, 1, 2, 2, 0}, {2, 3}, int64)});
  const std::vector<double> row{0.18065717187635372, 0.22065516801119428, 0.26950883081116833, 0.32917882930128367};
  std::vector<double> softmax, log_softmax;
  for (int r = 0; r < 6; ++r)
    for (double p : row) {
      softmax.push_back(p);
      log_softmax.push_back(std::log(p));
    }
  check_close(out[0], {2, 3, 4}, softmax);
  check_close(out[1], {2, 3, 4}, {-1.7111541217815445, -1.5111541217815445, -1.3111541217815446, -1.1111541217815444,
                                  -1.7111541217815445, -1.5111541217815445, -1.3111541217815443, -1.1111541217815444,
                                  -1.7111541217815445, -1.5111541217815445, -1.3111541217815446, -1.1111541217815444,
                                  -1.7111541217815445, -1.5111541217815443, -1.3111541217815446, -1.1111541217815444,
                                  -1.7111541217815442, -1.5111541217815445, -1.3111541217815443, -1.1111541217815446,
                                  -1.7111541217815445, -1.5111541217815443, -1.3111541217815441, -1.1111541217815448});
  check_close(out[2], {2, 3}, {1.7111541217815445, 1.1111541217815444, 1.5111541217815445, 1.3111541217815446,
                               1.3111541217815443, 1.7111541217815445});
  // One-hot (soft) targets of the probabilities' rank, and float32 with strided views.
  const Variable soft = T::tensor3("soft");
  const Variable x32 = T::tensor(float32, {false, false, false}, "x32");
  run({x32, t}, {T::nnet::softmax(x32), T::nnet::categorical_crossentropy(T::nnet::softmax(x32), t)},
      {random_tensor({3, 5, 4}, 21, float32).permute({1, 0, 2}).slice(0, 0, 4, 2), tensor_of({3, 0, 1, 2, 2, 1}, {2, 3}, int64)});
  run({x, soft}, {T::nnet::categorical_crossentropy(T::nnet::softmax(x), soft)},
      {random_tensor({2, 3, 4}, 22), T::nnet::softmax(soft).eval({{soft, random_tensor({2, 3, 4}, 23)}})});
  // A 4-d batch of sequences, and targets out of range named in both modes.
  const Variable x4 = T::tensor4("x4");
  const Variable t3 = T::tensor(int64, {false, false, false}, "t3");
  run({x4, t3}, {T::nnet::categorical_crossentropy(T::nnet::softmax(x4), t3)},
      {random_tensor({2, 2, 3, 5}, 24), tensor_of({0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}, {2, 2, 3}, int64)});
  CHECK(contains(thrown_message<graphjit::ShapeError>([&] {
          graphjit::function({x, t}, {T::nnet::categorical_crossentropy(T::nnet::softmax(x), t)})(
              random_tensor({2, 3, 4}, 25), tensor_of({0, 4, 1, 2, 2, 0}, {2, 3}, int64));
        }),
        "target 4 at index 1 is not a class in [0, 4)"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::nnet::categorical_crossentropy(x, T::vector("v", int64)); }),
                 "one dim less than the probabilities"));
}

TEST_CASE("verify_grad: softmax, log_softmax and crossentropy over the last axis of 3-d and 4-d tensors") {
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::nnet::softmax(in[0]); }, {random_tensor({2, 3, 4}, 31)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::nnet::log_softmax(in[0]); },
                                      {random_tensor({2, 2, 3, 4}, 32)}));
  const Variable targets = graphjit::constant(tensor_of({0, 3, 1, 2, 2, 0}, {2, 3}, int64));
  CHECK_NOTHROW(graphjit::verify_grad(
      [&](const auto& in) { return T::nnet::categorical_crossentropy(T::nnet::softmax(in[0]), targets); },
      {random_tensor({2, 3, 4}, 33)}));
  CHECK_NOTHROW(graphjit::verify_grad(
      [&](const auto& in) { return T::nnet::categorical_crossentropy(in[0], targets); },
      {random_tensor({2, 3, 4}, 34, float64, 0.2)}));
}

// S = np.array([[4., 1, 2], [1, 5, 3], [2, 3, 6]]); G = np.array([[2., -1, 0.5], [1, 3, 2], [0, 1, 4]])
// np.linalg.inv(G), np.linalg.det(G), np.linalg.det(S), np.linalg.solve(G, [1., 2, 3]),
// np.linalg.solve(G, [[1., 0], [2, 1], [3, -1]]), np.linalg.cholesky(S), np.linalg.eigh(S) with each
// eigenvector's sign fixed as graphjit fixes it (first component within 1e-6 of the largest magnitude positive).
TEST_CASE("matrix_inverse, det, solve, cholesky and eigh match numpy in float64 and float32") {
  for (graphjit::DType dtype : {float64, float32}) {
    const double rel = dtype == float64 ? 1e-12 : 2e-6;
    const Variable g = T::tensor(dtype, {false, false}, "g"), s = T::tensor(dtype, {false, false}, "s");
    const Variable b = T::tensor(dtype, {false}, "b"), bm = T::tensor(dtype, {false, false}, "bm");
    const auto [w, v] = T::nlinalg::eigh(s);
    const auto out = graphjit::testing::run(
        {g, s, b, bm},
        {T::nlinalg::matrix_inverse(g), T::nlinalg::det(g), T::nlinalg::det(s), T::slinalg::solve(g, b),
         T::slinalg::solve(g, bm), T::slinalg::cholesky(s), w, v},
        {kGeneral.astype(dtype), kSymmetric.astype(dtype), tensor_of({1, 2, 3}, {3}, dtype),
         tensor_of({1, 0, 2, 1, 3, -1}, {3, 2}, dtype)});
    INFO(graphjit::dtype_name(dtype));
    for (const Tensor& o : out) CHECK(o.dtype() == dtype);
    check_close(out[0], {3, 3},
                {0.40816326530612246, 0.18367346938775508, -0.14285714285714285, -0.16326530612244897,
                 0.32653061224489793, -0.14285714285714285, 0.04081632653061224, -0.08163265306122448,
                 0.2857142857142857}, rel);
    check_close(out[1], {}, {24.500000000000004}, rel);
    check_close(out[2], {}, {69.99999999999996}, rel);
    check_close(out[3], {3}, {0.3469387755102041, 0.06122448979591834, 0.7346938775510204}, rel);
    check_close(out[4], {3, 2}, {0.3469387755102041, 0.32653061224489793, 0.06122448979591834, 0.4693877551020408,
                                 0.7346938775510204, -0.36734693877551017}, rel);
    check_close(out[5], {3, 3}, {2.0, 0.0, 0.0, 0.5, 2.179449471770337, 0.0, 1.0, 1.1470786693528088, 1.9194297398747862},
                rel);
    check_close(out[6], {3}, {2.1943971674224096, 3.3867701566075494, 9.418832675970037}, rel * 10);
    check_close(out[7], {3, 3},
                {-0.4412246968734643, 0.8155834192895002, 0.3743587224160361, -0.5773502691896256, -0.577350269189626,
                 0.5773502691896255, 0.6870134158337712, 0.038605088352622774, 0.7256185041863938}, rel * 10);
  }
}

TEST_CASE("LAPACK ops: fast_run matches the reference on random inputs and strided views") {
  for (graphjit::DType dtype : {float64, float32}) {
    const Variable a = T::tensor(dtype, {false, false}, "a"), p = T::tensor(dtype, {false, false}, "p");
    const Variable b = T::tensor(dtype, {false, false}, "b");
    const auto [w, v] = T::nlinalg::eigh(p);
    for (std::int64_t n : {1, 2, 5, 8}) {
      INFO("n = ", n, ", ", graphjit::dtype_name(dtype));
      // Transposed and sliced views: the kernels must read strides, never write their inputs.
      const Tensor a_view = well_conditioned(2 * n, 40 + static_cast<std::uint64_t>(n), dtype).slice(0, 0, 2 * n, 2).slice(1, 0, 2 * n, 2).transpose();
      const Tensor p_view = spd(n, 50 + static_cast<std::uint64_t>(n), dtype).transpose();
      const Tensor b_view = random_tensor({3, n}, 60, dtype).transpose();
      const Tensor a_before = a_view.copy();
      run({a, p, b},
          {T::nlinalg::matrix_inverse(a), T::nlinalg::det(a), T::slinalg::solve(a, b), T::slinalg::solve(a, b[{T::slice(), 0}]),
           T::slinalg::cholesky(p), w, v, T::dot(v * w, v.T())},
          {a_view, p_view, b_view});
      CHECK(a_view.equal(a_before));
    }
  }
  // Integer input is computed in float64, as numpy.linalg does.
  const Variable i = T::tensor(int64, {false, false}, "i");
  const auto ints = run({i}, {T::nlinalg::det(i), T::nlinalg::matrix_inverse(i)}, {tensor_of({2, 0, 0, 4}, {2, 2}, int64)});
  CHECK(ints[0].dtype() == float64);
  CHECK(ints[0].item<double>() == doctest::Approx(8));
  CHECK(ints[1].get({1, 1}) == doctest::Approx(0.25));
  // The empty matrix: det 1, as numpy.
  const Variable e = T::matrix("e");
  CHECK(run({e}, {T::nlinalg::det(e)}, {Tensor::zeros({0, 0}, float64)})[0].item<double>() == 1);
}

TEST_CASE("eigh reconstructs its input and orders eigenvalues ascending") {
  const Variable p = T::matrix("p");
  const auto [w, v] = T::nlinalg::eigh(p);
  const Tensor point = spd(6, 70);
  const auto out = run({p}, {w, T::dot(v * w, v.T()), T::dot(v.T(), v)}, {point});
  for (std::int64_t k = 1; k < 6; ++k) CHECK(out[0].get({k - 1}) < out[0].get({k}));
  for (std::int64_t r = 0; r < 6; ++r)
    for (std::int64_t c = 0; c < 6; ++c) {
      CHECK(out[1].get({r, c}) == doctest::Approx(point.get({r, c})).epsilon(1e-10));
      CHECK(out[2].get({r, c}) == doctest::Approx(r == c ? 1.0 : 0.0).epsilon(1e-10));
    }
}

TEST_CASE("verify_grad: matrix_inverse, det, solve, cholesky and eigh") {
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::nlinalg::matrix_inverse(in[0]); },
                                      {well_conditioned(4, 80)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::nlinalg::det(in[0]); }, {well_conditioned(4, 81)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::slinalg::solve(in[0], in[1]); },
                                      {well_conditioned(4, 82), random_tensor({4, 3}, 83)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::slinalg::solve(in[0], in[1]); },
                                      {well_conditioned(3, 84), random_tensor({3}, 85)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::slinalg::cholesky(in[0]); }, {spd(4, 86)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::nlinalg::eigh(in[0]).first; }, {spd(4, 87)}));
  CHECK_NOTHROW(graphjit::verify_grad([](const auto& in) { return T::nlinalg::eigh(in[0]).second; }, {spd(4, 88)}));
  CHECK_NOTHROW(graphjit::verify_grad(
      [](const auto& in) {
        const auto [w, v] = T::nlinalg::eigh(in[0]);
        return T::sum(T::sqr(w)) + T::sum(v[{T::slice(), 0}]);
      },
      {spd(3, 89)}));
  // Composed: the log-determinant through cholesky, as a Gaussian likelihood writes it.
  CHECK_NOTHROW(graphjit::verify_grad(
      [](const auto& in) {
        const Variable l = T::slinalg::cholesky(T::dot(in[0], in[0].T()) + 3.0);
        return T::sum(T::log(T::sum(T::sqr(l), 1)));
      },
      {well_conditioned(3, 90)}));
}

TEST_CASE("singular and non-positive-definite inputs are errors naming the op, the shape and the user's line") {
  const Variable a = T::matrix("a"), b = T::vector("b");
  const Tensor singular = tensor_of({1, 2, 2, 4}, {2, 2});
  for (graphjit::Mode mode : {graphjit::Mode::reference, graphjit::Mode::fast_run}) {
    INFO((mode == graphjit::Mode::reference ? "reference" : "fast_run"));
    const std::string inverse = thrown_message<graphjit::ShapeError>(
        [&] { graphjit::function({a}, {T::nlinalg::matrix_inverse(a)}, {.mode = mode})(singular); });
    CHECK(contains(inverse, "matrix_inverse(a"));
    CHECK(contains(inverse, "singular"));
    CHECK(contains(inverse, "(2, 2)"));
    CHECK(contains(inverse, "test_linalg.cpp:"));
    const std::string solve = thrown_message<graphjit::ShapeError>(
        [&] { graphjit::function({a, b}, {T::slinalg::solve(a, b)}, {.mode = mode})(singular, tensor_of({1, 1}, {2})); });
    CHECK(contains(solve, "solve(a"));
    CHECK(contains(solve, "singular"));
    const std::string chol = thrown_message<graphjit::ShapeError>([&] {
      graphjit::function({a}, {T::slinalg::cholesky(a)}, {.mode = mode})(tensor_of({1, 2, 2, 1}, {2, 2}));
    });
    CHECK(contains(chol, "cholesky(a"));
    CHECK(contains(chol, "not positive definite"));
    CHECK(contains(chol, "test_linalg.cpp:"));
    const std::string square = thrown_message<graphjit::ShapeError>(
        [&] { graphjit::function({a}, {T::nlinalg::det(a)}, {.mode = mode})(range_tensor({2, 3})); });
    CHECK(contains(square, "det needs a square matrix, got shape (2, 3)"));
    const std::string rows = thrown_message<graphjit::ShapeError>(
        [&] { graphjit::function({a, b}, {T::slinalg::solve(a, b)}, {.mode = mode})(well_conditioned(3, 1), tensor_of({1, 1}, {2})); });
    CHECK(contains(rows, "b has 2 rows"));
    // numpy: the determinant of a singular matrix is 0, not an error.
    CHECK(graphjit::function({a}, {T::nlinalg::det(a)}, {.mode = mode})(singular)[0].item<double>() == 0);
  }
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::nlinalg::matrix_inverse(T::vector("v")); }), "matrix"));
  CHECK(contains(thrown_message<graphjit::TypeError>([&] { T::slinalg::solve(a, T::tensor3("c")); }), "vector or matrix"));
}

TEST_CASE("Mode::debug checks every tensordot and LAPACK kernel against its reference") {
  const Variable a = T::matrix("a"), p = T::matrix("p"), x = T::tensor3("x");
  const auto [w, v] = T::nlinalg::eigh(p);
  const Variable cost = T::sum(T::nlinalg::matrix_inverse(a)) + T::nlinalg::det(a) + T::sum(T::slinalg::cholesky(p)) +
                        T::sum(w) + T::sum(v) + T::sum(T::slinalg::solve(a, p)) + T::sum(T::dot(x, a)) +
                        T::sum(T::batched_dot(x, x.dimshuffle({0, 2, 1})));
  const auto grads = T::grad(cost, {a, p, x});
  auto f = graphjit::function({a, p, x}, {cost, grads[0], grads[1], grads[2]}, {.mode = graphjit::Mode::debug});
  CHECK_NOTHROW(f(well_conditioned(4, 91), spd(4, 92), random_tensor({2, 3, 4}, 93)));
}

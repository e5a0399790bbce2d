# Prints the cases of tests/test_tensor_print.cpp: each C++ expression with
# numpy's str() and repr() of the same array (run with Debian's python3-numpy).
import numpy as np
# (C++ expression, numpy value)
cases = [
 ('vec({0.5, -2, 10})', np.array([0.5, -2, 10])),
 ('vec({1, 2, 3, 4}).reshape({2, 2})', np.array([[1., 2], [3, 4]])),
 ('Tensor::arange(8, int64).reshape({2, 2, 2})', np.arange(8).reshape(2, 2, 2)),
 ('div(Tensor::arange(24, float64).reshape({2, 3, 4}), 7)', np.arange(24.).reshape(2, 3, 4) / 7),
 ('Tensor::arange(3, int32)', np.arange(3, dtype=np.int32)),
 ('Tensor::arange(3, float64).astype(bool_)', np.arange(3.).astype(bool)),
 ('vec({0, 0}).astype(bool_)', np.zeros(2).astype(bool)),
 ('Tensor::scalar(5.0)', np.array(5.0)),
 ('Tensor::scalar(0.1).astype(float32)', np.array(0.1, dtype=np.float32)),
 ('Tensor::scalar(1e20)', np.array(1e20)),
 ('Tensor::scalar(1e-5)', np.array(1e-5)),
 ('Tensor::scalar(std::int64_t{-7})', np.array(-7)),
 ('Tensor::scalar(1.0).astype(bool_)', np.array(True)),
 ('vec({0.1, 0.2, 1.0 / 3}).astype(float32)', np.array([0.1, 0.2, 1 / 3], dtype=np.float32)),
 ('vec({1.0 / 3, 2.0 / 3, 1})', np.array([1 / 3, 2 / 3, 1])),
 ('vec({1e-5, 1})', np.array([1e-5, 1.])),
 ('vec({1e-5, 1}).astype(float32)', np.array([1e-5, 1.], dtype=np.float32)),
 ('vec({1e20, std::nan("")})', np.array([1e20, np.nan])),
 ('vec({1e100, 1})', np.array([1e100, 1.])),
 ('vec({123456789.0, 0.5})', np.array([123456789.0, 0.5])),
 ('vec({1e-10, 1, 2})', np.array([1e-10, 1, 2])),
 ('vec({std::nan(""), -INFINITY, 1.5})', np.array([np.nan, -np.inf, 1.5])),
 ('vec({std::nan(""), INFINITY})', np.array([np.nan, np.inf])),
 ('vec({0, 0, -0.0})', np.array([0., 0, -0.0])),
 ('vec({1000, 0.5})', np.array([1000, 0.5])),
 ('vec({1001, 1})', np.array([1001, 1.])),
 ('vec({-1.5, 2.25, 1e7})', np.array([-1.5, 2.25, 1e7])),
 ('Tensor::arange(30, float64)', np.arange(30.)),
 ('Tensor::arange(40, int32)', np.arange(40, dtype=np.int32)),
 ('Tensor::arange(1001, float64)', np.arange(1001.)),
 ('Tensor::arange(2000, int64).reshape({40, 50})', np.arange(2000).reshape(40, 50)),
 ('Tensor::arange(2400, float64).reshape({4, 20, 30})', np.arange(2400.).reshape(4, 20, 30)),
 ('div(Tensor::arange(6, float64).reshape({2, 3}), 3).transpose()', (np.arange(6.).reshape(2, 3) / 3).T),
 ('Tensor::zeros({0, 3}, float64)', np.zeros((0, 3))),
 ('Tensor::zeros({0}, int32)', np.zeros(0, dtype=np.int32)),
 ('div(Tensor::arange(12, float64).reshape({3, 4}), 7).astype(float32)', (np.arange(12.).reshape(3, 4) / 7).astype(np.float32)),
 ('Tensor::arange(12, float64).reshape({3, 4}).astype(uint8)', np.arange(12).reshape(3, 4).astype(np.uint8)),
]
def cstr(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'
for expr, a in cases:
    print(f'    {{{expr}, {cstr(str(a))},\n     {cstr(repr(a))}}},')

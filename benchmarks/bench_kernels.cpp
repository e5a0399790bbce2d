// Fused JIT kernels against plain C++ loops over glibc's libm, and the cost of
// compiling them.
//
//   bench_kernels [elements]      (default 1048576)
//
// Prints ns per element for graphjit on one thread and on all threads, for
// the libm loop, and the single-thread speedup (median wall clock), and the
// single-thread figures again as the least thread CPU time; then the JIT compile time of
// a module of ten typical kernels (wall clock and CPU time of the compiling
// thread: the wall clock suffers when the machine is busy).
#include "compiler/codegen/kernel_compiler.hpp"
#include "compiler/ir/node.hpp"
#include "compiler/jit/jit_engine.hpp"
#include "compiler/exec/thread_pool.hpp"
#include "frontend/ops/special_functions.hpp"

#include <graphjit/graphjit.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace graphjit;
using ir::NodeRef;
using ir::OpCode;

namespace {

NodeRef input(DType dtype, std::vector<bool> broadcastable, const char* name) {
  return ir::make_input(ir::Type{dtype, std::move(broadcastable)}, name, std::source_location::current());
}
NodeRef apply(OpCode op, std::vector<NodeRef> inputs) { return ir::make(op, std::move(inputs)); }
NodeRef reduce(OpCode op, NodeRef x, std::vector<int> axes, bool keepdims) {
  ir::Attrs attrs;
  attrs.axes = std::move(axes);
  attrs.keepdims = keepdims;
  return ir::make(op, {std::move(x)}, attrs);
}

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Median of several timed runs, in ns per element; with `cpu`, the minimum of
// the calling thread's CPU time instead (for work done on this thread alone,
// it is the figure that suffers least from a busy machine).
double ns_per_element(std::int64_t elements, const std::function<void()>& run, bool cpu = false) {
  run();  // warm up caches, page in outputs, wake threads
  std::vector<double> times;
  for (int rep = 0; rep < 15; ++rep) {
    const double cpu_start = thread_cpu_ms();
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(cpu ? (thread_cpu_ms() - cpu_start) * 1e6
                        : std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return (cpu ? times.front() : times[times.size() / 2]) / static_cast<double>(elements);
}

Tensor random_vector(std::int64_t n, DType dtype, double lo, double hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::empty({n}, dtype);
  for (std::int64_t i = 0; i < n; ++i) {
    if (dtype == float32)
      t.data<float>()[i] = static_cast<float>(dist(rng));
    else
      t.data<double>()[i] = dist(rng);
  }
  return t;
}

struct Case {
  std::string name;
  codegen::Cluster cluster;
  std::vector<Tensor> inputs;
  std::function<void(Tensor& out)> libm_loop;
};

template <class T> std::vector<Case> cases(std::int64_t n) {
  const DType dt = dtype_of<T>();
  std::vector<Case> out;
  {
    NodeRef x = input(dt, {false}, "x"), a = input(dt, {true}, "a"), b = input(dt, {true}, "b"),
            c = input(dt, {true}, "c");
    NodeRef ax = apply(OpCode::Mul, {a, x}), axb = apply(OpCode::Add, {ax, b}), t = apply(OpCode::Tanh, {axb}),
            y = apply(OpCode::Mul, {t, c});
    Tensor xv = random_vector(n, dt, -3, 3, 1);
    Tensor av = Tensor::full({1}, 0.7, dt), bv = Tensor::full({1}, 0.1, dt), cv = Tensor::full({1}, 1.3, dt);
    out.push_back(
        {"tanh(a*x+b)*c", {"tanh_chain", {x, a, b, c}, {ax, axb, t, y}, {y}, {}}, {xv, av, bv, cv}, [=](Tensor& o) {
           const T* px = xv.data<T>();
           const T pa = av.data<T>()[0], pb = bv.data<T>()[0], pc = cv.data<T>()[0];
           T* po = o.data<T>();
           for (std::int64_t i = 0; i < n; ++i) po[i] = std::tanh(pa * px[i] + pb) * pc;
         }});
  }
  {
    NodeRef x = input(dt, {false}, "x"), e = apply(OpCode::Exp, {x});
    Tensor xv = random_vector(n, dt, -20, 20, 2);
    out.push_back({"exp(x)", {"exp", {x}, {e}, {e}, {}}, {xv}, [=](Tensor& o) {
                     const T* px = xv.data<T>();
                     T* po = o.data<T>();
                     for (std::int64_t i = 0; i < n; ++i) po[i] = std::exp(px[i]);
                   }});
  }
  {
    NodeRef x = input(dt, {false}, "x"), l = apply(OpCode::Log, {x});
    Tensor xv = random_vector(n, dt, 1e-3, 1e3, 3);
    out.push_back({"log(x)", {"log", {x}, {l}, {l}, {}}, {xv}, [=](Tensor& o) {
                     const T* px = xv.data<T>();
                     T* po = o.data<T>();
                     for (std::int64_t i = 0; i < n; ++i) po[i] = std::log(px[i]);
                   }});
  }
  // The trigonometric and error functions, vector code since issue 8; the
  // libm loop is what each lane called before.
  auto unary = [&](const char* name, std::vector<OpCode> ops, double lo, double hi, unsigned seed, T (*f)(T)) {
    NodeRef x = input(dt, {false}, "x");
    std::vector<NodeRef> nodes;
    for (OpCode code : ops) nodes.push_back(apply(code, {x}));
    if (nodes.size() == 2) nodes.push_back(apply(OpCode::Add, {nodes[0], nodes[1]}));
    Tensor xv = random_vector(n, dt, lo, hi, seed);
    out.push_back({name, {name, {x}, nodes, {nodes.back()}, {}}, {xv}, [=](Tensor& o) {
                     const T* px = xv.data<T>();
                     T* po = o.data<T>();
                     for (std::int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
                   }});
  };
  unary("tanh(x)", {OpCode::Tanh}, -5, 5, 6, [](T v) { return std::tanh(v); });
  unary("sin(x)+cos(x)", {OpCode::Sin, OpCode::Cos}, -10, 10, 7, [](T v) { return std::sin(v) + std::cos(v); });
  unary("erf(x)", {OpCode::Erf}, -4, 4, 8, [](T v) { return std::erf(v); });
  // Issue 8, the inverse functions (vector code since vmath-inverse).
  unary("log2(x)", {OpCode::Log2}, 1e-3, 1e3, 9, [](T v) { return std::log2(v); });
  unary("log10(x)", {OpCode::Log10}, 1e-3, 1e3, 10, [](T v) { return std::log10(v); });
  unary("arcsinh(x)", {OpCode::Arcsinh}, -30, 30, 11, [](T v) { return std::asinh(v); });
  unary("arccosh(x)", {OpCode::Arccosh}, 1, 30, 12, [](T v) { return std::acosh(v); });
  unary("arctanh(x)", {OpCode::Arctanh}, -1, 1, 13, [](T v) { return std::atanh(v); });
  unary("arcsin(x)", {OpCode::Arcsin}, -1, 1, 14, [](T v) { return std::asin(v); });
  unary("arccos(x)", {OpCode::Arccos}, -1, 1, 15, [](T v) { return std::acos(v); });
  {
    NodeRef y = input(dt, {false}, "y"), x = input(dt, {false}, "x"), a = apply(OpCode::Arctan2, {y, x});
    Tensor yv = random_vector(n, dt, -5, 5, 16), xv = random_vector(n, dt, -5, 5, 17);
    out.push_back({"arctan2(y,x)", {"arctan2", {y, x}, {a}, {a}, {}}, {yv, xv}, [=](Tensor& o) {
                     const T *py = yv.data<T>(), *px = xv.data<T>();
                     T* po = o.data<T>();
                     for (std::int64_t i = 0; i < n; ++i) po[i] = std::atan2(py[i], px[i]);
                   }});
  }
  // vmath-special: the special functions, whose loops call the op table's scalar functions.
  unary("erfinv(x)", {OpCode::Erfinv}, -0.999, 0.999, 18, [](T v) { return static_cast<T>(ops::erfinv(v)); });
  unary("gammaln(x)", {OpCode::Gammaln}, -20, 20, 19, [](T v) { return std::lgamma(v); });
  unary("gammaln(x>0)", {OpCode::Gammaln}, 0, 20, 20, [](T v) { return std::lgamma(v); });
  unary("psi(x)", {OpCode::Psi}, -20, 20, 21, [](T v) { return static_cast<T>(ops::digamma(v)); });
  unary("psi(x>0)", {OpCode::Psi}, 0, 20, 22, [](T v) { return static_cast<T>(ops::digamma(v)); });
  unary("tri_gamma(x)", {OpCode::TriGamma}, -20, 20, 23, [](T v) { return static_cast<T>(ops::trigamma(v)); });
  return out;
}

template <class T> void time_cases(std::int64_t n) {
  exec::ThreadPool& pool = exec::ThreadPool::global();
  const int threads = pool.concurrency();
  std::vector<Case> all = cases<T>(n);
  std::vector<codegen::Cluster> clusters;
  for (const Case& c : all) clusters.push_back(c.cluster);
  std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "bench");
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Case& c = all[i];
    const exec::Kernel& kernel = kernels[i];
    std::vector<Tensor> outputs = kernel.run(c.inputs);
    Tensor libm_out = Tensor::empty({n}, dtype_of<T>());
    pool.set_max_threads(1);
    const double one = ns_per_element(n, [&] { kernel.run(c.inputs, outputs); });
    pool.set_max_threads(threads);
    const double all_threads = ns_per_element(n, [&] { kernel.run(c.inputs, outputs); });
    const double libm = ns_per_element(n, [&] { c.libm_loop(libm_out); });
    pool.set_max_threads(1);
    const double one_cpu = ns_per_element(n, [&] { kernel.run(c.inputs, outputs); }, true);
    pool.set_max_threads(threads);
    const double libm_cpu = ns_per_element(n, [&] { c.libm_loop(libm_out); }, true);
    std::printf("%-16s %-8s %12.3f %12.3f %12.3f %9.1fx %12.3f %12.3f\n", c.name.c_str(), dtype_name(dtype_of<T>()),
                one, all_threads, libm, libm / one, one_cpu, libm_cpu);
  }
}

// Ten kernels of the kinds an MLP's training step has.
std::vector<codegen::Cluster> typical_module() {
  const DType dt = float64;
  NodeRef x = input(dt, {false, false}, "x"), y = input(dt, {false, false}, "y"), b = input(dt, {true, false}, "b");
  std::vector<codegen::Cluster> clusters;
  auto add = [&](const char* name, std::vector<NodeRef> inputs, std::vector<NodeRef> nodes, std::vector<NodeRef> outs,
                 std::vector<NodeRef> reductions) {
    clusters.push_back({name, std::move(inputs), std::move(nodes), std::move(outs), std::move(reductions)});
  };
  NodeRef xb = apply(OpCode::Add, {x, b}), th = apply(OpCode::Tanh, {xb});
  add("tanh_layer", {x, b}, {xb, th}, {th}, {});
  NodeRef sg = apply(OpCode::Sigmoid, {xb});
  add("sigmoid_layer", {x, b}, {xb, sg}, {sg}, {});
  NodeRef rl = apply(OpCode::Relu, {xb});
  add("relu_layer", {x, b}, {xb, rl}, {rl}, {});
  NodeRef th2 = apply(OpCode::Mul, {th, th}), one_minus = apply(OpCode::Sub, {y, th2}),
          g = apply(OpCode::Mul, {x, one_minus});
  add("tanh_grad", {x, y, th}, {th2, one_minus, g}, {g}, {});
  NodeRef row_max = reduce(OpCode::Max, x, {1}, true);
  add("row_max", {x}, {}, {}, {row_max});
  NodeRef m = input(dt, {false, true}, "m"), shifted = apply(OpCode::Sub, {x, m}), e = apply(OpCode::Exp, {shifted});
  add("softmax_exp", {x, m}, {shifted, e}, {e}, {reduce(OpCode::Sum, e, {1}, true)});
  NodeRef s = input(dt, {false, true}, "s"), p = apply(OpCode::TrueDiv, {x, s});
  add("softmax_div", {x, s}, {p}, {p}, {});
  NodeRef lg = apply(OpCode::Log, {x}), nl = apply(OpCode::Mul, {y, lg});
  add("xent", {x, y}, {lg, nl}, {}, {reduce(OpCode::Sum, nl, {}, false)});
  NodeRef d = apply(OpCode::Sub, {x, y}), sq = apply(OpCode::Sqr, {d});
  add("mse", {x, y}, {d, sq}, {}, {reduce(OpCode::Sum, sq, {}, false)});
  NodeRef lr = input(dt, {true, true}, "lr"), step = apply(OpCode::Mul, {lr, y}), upd = apply(OpCode::Sub, {x, step});
  add("sgd_update", {x, y, lr}, {step, upd}, {upd}, {});
  return clusters;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 1 << 20;
  {
    const double cpu_start = thread_cpu_ms();
    const auto wall_start = std::chrono::steady_clock::now();
    jit::JitEngine::instance();
    std::printf("JIT start-up (once per process): %.1f ms wall, %.1f ms CPU\n",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start).count(),
                thread_cpu_ms() - cpu_start);
  }
  const std::vector<codegen::Cluster> clusters = typical_module();
  for (int rep = 0; rep < 3; ++rep) {
    const double cpu_start = thread_cpu_ms();
    const auto wall_start = std::chrono::steady_clock::now();
    std::vector<exec::Kernel> kernels = codegen::compile_kernels(clusters, "typical");
    const double wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start).count();
    std::printf("compile %zu kernels in one module%s: %.1f ms wall, %.1f ms CPU\n", kernels.size(),
                rep == 0 ? " (first in process)" : "", wall, thread_cpu_ms() - cpu_start);
  }
  std::printf("%lld elements; %d threads; ns per element (median of 15 runs)\n", static_cast<long long>(n),
              exec::ThreadPool::global().concurrency());
  std::printf("%-16s %-8s %12s %12s %12s %10s %12s %12s\n", "kernel", "dtype", "jit 1 thread", "jit all", "libm loop",
              "speedup", "jit 1 CPU", "libm CPU");
  time_cases<double>(n);
  time_cases<float>(n);

  {
    // Short rows: every row ends in a partial vector step (softmax over 10 classes).
    NodeRef x = input(float64, {false, false}, "x"), m = input(float64, {false, true}, "m");
    NodeRef shifted = apply(OpCode::Sub, {x, m}), e = apply(OpCode::Exp, {shifted});
    const exec::Kernel rows = codegen::compile_kernels(
        {{"softmax_rows", {x, m}, {shifted, e}, {e}, {reduce(OpCode::Sum, e, {1}, true)}}}, "rows")[0];
    const std::int64_t r = n / 10;
    const std::vector<Tensor> args = {random_vector(r * 10, float64, -3, 3, 4).reshape({r, 10}),
                                      random_vector(r, float64, 0, 1, 5).reshape({r, 1})};
    std::vector<Tensor> out = rows.run(args);
    exec::ThreadPool::global().set_max_threads(1);
    std::printf("exp(x - m) and row sums, rows of 10 (float64): %.3f ns per element on 1 thread\n",
                ns_per_element(r * 10, [&] { rows.run(args, out); }));
    const Tensor xt = random_vector(r * 10, float64, -3, 3, 4).reshape({10, r}).transpose();
    std::printf("the same with x transposed (strided, gathers): %.3f ns per element on 1 thread\n",
                ns_per_element(r * 10, [&] {
                  rows.run({xt, args[1]}, out);
                }));
    exec::ThreadPool::global().set_max_threads(exec::ThreadPool::global().size());
  }
  {
    // Softmax through a call, short rows against long ones (issue 7, item 5:
    // rows of 10 classes ran ~3x slower per element than rows of 1000).
    auto x = tensor::matrix("x");
    auto softmax = graphjit::function({x}, {tensor::softmax(x)});
    exec::ThreadPool& pool = exec::ThreadPool::global();
    const int threads = pool.concurrency();
    for (std::int64_t cols : {std::int64_t{10}, std::int64_t{1000}}) {
      const std::int64_t rows = 100000 / cols;
      const Tensor xv = random_vector(rows * cols, float64, -3, 3, 6).reshape({rows, cols});
      pool.set_max_threads(1);
      const double one = ns_per_element(rows * cols, [&] { softmax(xv); });
      pool.set_max_threads(threads);
      const double all_threads = ns_per_element(rows * cols, [&] { softmax(xv); });
      std::printf("softmax (%lld, %lld) float64 through a call: %.3f ns per element on 1 thread, %.3f on %d\n",
                  static_cast<long long>(rows), static_cast<long long>(cols), one, all_threads, threads);
    }
  }
  {
    // The fixed cost of a call: checks, stride setup, the call itself.
    NodeRef a = input(float64, {false}, "a"), b = input(float64, {false}, "b"), sum = apply(OpCode::Add, {a, b});
    const exec::Kernel tiny = codegen::compile_kernels({{"tiny", {a, b}, {sum}, {sum}, {}}}, "tiny")[0];
    const std::vector<Tensor> args = {Tensor::full({4}, 1.0, float64), Tensor::full({4}, 2.0, float64)};
    std::vector<Tensor> out = tiny.run(args);
    const double ns = ns_per_element(10000, [&] {
      for (int i = 0; i < 10000; ++i) tiny.run(args, out);
    });
    std::printf("call overhead (4-element add, outputs given): %.0f ns\n", ns);
    const double ns_alloc = ns_per_element(10000, [&] {
      for (int i = 0; i < 10000; ++i) tiny.run(args);
    });
    std::printf("call overhead (4-element add, outputs allocated): %.0f ns\n", ns_alloc);
  }

  return 0;
}

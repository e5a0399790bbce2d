// The threading model (docs/reliability.md): one Function called from several
// threads gives the results of some sequential order of the calls; a call
// sees each shared variable's value from before or after a concurrent
// set_value, never freed or half-written storage; functions that share
// variables serialize on them, others run side by side.
#include <doctest/doctest.h>

#include <graphjit/graphjit.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace T = graphjit::tensor;
using graphjit::Mode;
using graphjit::Tensor;

namespace {
const Mode kModes[] = {Mode::reference, Mode::fast_run};

constexpr int kThreads = 2;
constexpr int kCalls = 150;

// A matrix different for each (thread, call): results computed in another
// call's buffers would show.
constexpr std::int64_t kRows = 64, kCols = 128;
Tensor input_for(int thread, int call) {
  Tensor t = Tensor::empty({kRows, kCols}, graphjit::float64);
  for (std::int64_t i = 0; i < kRows; ++i)
    for (std::int64_t j = 0; j < kCols; ++j) t.set({i, j}, 0.01 * (thread * 1000 + call) + 0.001 * (i - j));
  return t;
}

// Runs body(thread) on kThreads threads at once and waits for all.
template <class F> void on_threads(F body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // start together
      body(t);
    });
  for (std::thread& t : threads) t.join();
}

// Every element of a vector is the same: no half-old, half-new value.
bool uniform(const Tensor& v) {
  const std::vector<double> xs = v.to_vector<double>();
  for (double x : xs)
    if (x != xs.front()) return false;
  return true;
}
}  // namespace

TEST_CASE("one function called from two threads: each result is the sequential one") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    const auto x = T::matrix("x");
    const auto w = graphjit::shared(Tensor::full({kCols, 8}, 0.01, graphjit::float64), "w");
    // Several steps, so a call's intermediate buffers are live while the other thread could run.
    auto f = graphjit::function({x}, {T::sum(T::tanh(T::dot(x, w)) * 2 + T::exp(x).sum(std::vector<int>{1}).dimshuffle({0, -1}))},
                                {.mode = mode});
    std::vector<std::vector<double>> expected(kThreads), got(kThreads);
    for (int t = 0; t < kThreads; ++t)
      for (int c = 0; c < kCalls; ++c) expected[t].push_back(f(input_for(t, c))[0].item<double>());
    on_threads([&](int t) {
      for (int c = 0; c < kCalls; ++c) got[t].push_back(f(input_for(t, c))[0].item<double>());
    });
    CHECK(got == expected);
  }
}

TEST_CASE("one function with updates called from two threads: no update is lost") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    const auto x = T::matrix("x");
    const auto count = graphjit::shared(Tensor::zeros({}, graphjit::float64), "count");
    const auto acc = graphjit::shared(Tensor::zeros({kRows, kCols}, graphjit::float64), "acc");
    // acc <- acc + x is written in place into acc's buffer in fast_run.
    auto f = graphjit::function({x}, {T::sum(acc)}, {.updates = {{count, count + 1}, {acc, acc + x}}, .mode = mode});
    on_threads([&](int t) {
      for (int c = 0; c < kCalls; ++c) f(input_for(t, c));
    });
    CHECK(count.get_value().item<double>() == kThreads * kCalls);
    Tensor want = Tensor::zeros({kRows, kCols}, graphjit::float64);
    for (int t = 0; t < kThreads; ++t)
      for (int c = 0; c < kCalls; ++c) {
        // The same sums in the same order per element do not hold across
        // threads, so compare with a tolerance.
        const Tensor in = input_for(t, c);
        for (std::int64_t i = 0; i < kRows; ++i)
          for (std::int64_t j = 0; j < kCols; ++j) want.set({i, j}, want.get({i, j}) + in.get({i, j}));
      }
    const Tensor have = acc.get_value();
    int wrong = 0;
    for (std::int64_t i = 0; i < kRows; ++i)
      for (std::int64_t j = 0; j < kCols; ++j) wrong += have.get({i, j}) != doctest::Approx(want.get({i, j})).epsilon(1e-12);
    CHECK(wrong == 0);
  }
}

TEST_CASE("set_value and get_value while other threads call functions that read and update the variable") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    constexpr std::int64_t n = 40000;  // above 16K elements the JIT splits loops over threads; above 128 KB malloc maps fresh pages, unmapped when freed
    auto v = graphjit::shared(Tensor::zeros({n}, graphjit::float64), "v");
    // v stays uniform under every writer: the update adds 1 to each element,
    // set_value stores a constant vector. A torn read or a freed buffer would
    // show as mixed elements (or a crash under ASan).
    auto bump = graphjit::function({}, {v * 1}, {.updates = {{v, v + 1}}, .mode = mode});
    auto read = graphjit::function({}, {v * 2}, {.mode = mode});
    std::atomic<bool> all_uniform{true}, set_value_lost{false};
    std::atomic<int> done{0};
    std::thread setter([&] {
      for (int k = 1; done.load() < kThreads; ++k) {
        v.set_value(Tensor::full({n}, 1e6 * k, graphjit::float64), k % 2 == 0);
        // Calls after set_value only add to the new value. A call that read
        // the value before and wrote its update after would bring back an
        // older one: the set_value would be lost.
        const Tensor seen = v.get_value();
        if (!uniform(seen)) all_uniform = false;
        if (seen.get({0}) < 1e6 * k) set_value_lost = true;
        if (!uniform(v.get_value(true).copy())) all_uniform = false;
      }
    });
    on_threads([&](int t) {
      for (int c = 0; c < kCalls / 3; ++c) {
        const Tensor out = t == 0 ? bump()[0] : read()[0];
        if (!uniform(out)) all_uniform = false;
      }
      done.fetch_add(1);
    });
    setter.join();
    CHECK(all_uniform.load());
    CHECK_FALSE(set_value_lost.load());
    CHECK(uniform(v.get_value()));
  }
}

TEST_CASE("two functions updating one shared variable from two threads serialize on it") {
  for (Mode mode : kModes) {
    INFO("mode ", mode_name(mode));
    const auto w = graphjit::shared(Tensor::zeros({64, 64}, graphjit::float64), "w");
    const auto m = graphjit::shared(Tensor::full({64, 64}, 0.0, graphjit::float64), "m");
    // One adds 1 (in place in fast_run); the other a gemm with a zero matrix
    // plus 1 (w <- w + m.w + 1, also a candidate for writing into w).
    auto inc = graphjit::function({}, {}, {.updates = {{w, w + 1}}, .mode = mode});
    auto inc_gemm = graphjit::function({}, {}, {.updates = {{w, w + T::dot(m, w) + 1}}, .mode = mode});
    on_threads([&](int t) {
      for (int c = 0; c < kCalls; ++c) t == 0 ? inc() : inc_gemm();
    });
    const Tensor have = w.get_value();
    CHECK(uniform(have.reshape({64 * 64})));
    CHECK(have.get({0, 0}) == kThreads * kCalls);
  }
}

TEST_CASE("functions that share nothing run concurrently and agree with their sequential results") {
  const auto a = T::matrix("a");
  auto f = graphjit::function({a}, {T::sum(T::dot(a, a.T()))});
  auto g = graphjit::function({a}, {T::sum(T::dot(a.T(), a) * 3)});
  std::vector<double> want_f, want_g;
  for (int c = 0; c < kCalls; ++c) {
    want_f.push_back(f(input_for(0, c))[0].item<double>());
    want_g.push_back(g(input_for(1, c))[0].item<double>());
  }
  std::vector<double> got_f, got_g;
  on_threads([&](int t) {
    for (int c = 0; c < kCalls; ++c) {
      if (t == 0) got_f.push_back(f(input_for(0, c))[0].item<double>());
      else got_g.push_back(g(input_for(1, c))[0].item<double>());
    }
  });
  CHECK(got_f == want_f);
  CHECK(got_g == want_g);
}

// The command line, training loop and reporting the examples share
// (mnist_mlp, lenet): the seed's epoch loop over givens on shared data, with
// the same flags and the same --json fields, whatever the model.
//
//   PROGRAM [--data fashion|mnist|DIR] [--model NAME] [--init glorot|uniform01|uniform11]
//           [--epochs N] [--batch N] [--lr X] [--hidden N] [--dtype float64|float32]
//           [--seed N] [--threads N] [--save FILE.npz] [--load FILE.npz] [--json]
//           [--dump DIR] [--profile] [--dropout P (mnist_mlp)] [--clip C (rnn_mnist)]
//
// --dtype defaults to the floatX flag (GRAPHJIT_FLAGS=floatX=float32), as the
// seed's Theano script follows theano.config.floatX.
// --dump DIR writes the train function's graph before and after the rewrites
// and its schedule (train.schedule.*: fused kernels, gemm calls, buffers,
// in-place updates; with --profile each step's time, rewritten after training)
// as text (debugprint), DOT, SVG (when Graphviz is installed) and HTML, and
// the LLVM IR (.ll, .opt.ll) and assembly (.s) of every compiled module; the
// train function's is compiled first, so its module has the lowest number.
#pragma once

#include "seed_model.hpp"

#include <graphjit/graphjit.hpp>
#include <graphjit/runtime/datasets.hpp>
#include <graphjit/runtime/npz.hpp>
#include <graphjit/runtime/random.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sys/resource.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace seed {

struct Options;

// What differs between the examples: the name, the models and defaults, and how a model is made.
struct ExampleSpec {
  std::string program;              // for --help and errors
  std::vector<std::string> models;  // --model's choices; the first is the default
  int hidden = 128;                 // --hidden's default
  double lr = 0.3;                  // --lr's default
  int batch = 500;                  // --batch's default
  // Validation and test run over --batch images at a time (a conv net's
  // activations for 10000 images would take gigabytes), the sizes weighing
  // the means; false: one call over the whole split, as the seed does.
  bool evaluate_in_batches = false;
  bool takes_dropout = false;  // whether --dropout P applies (mnist_mlp: on the hidden layer, in train only)
  bool takes_clip = false;     // whether --clip C applies (rnn_mnist: each gradient element clipped to [-C, C])
  // The model, from the options (--model, --hidden, --dropout, --clip...) and the symbolic images and labels.
  std::function<std::unique_ptr<Model>(const Options& o, Init& init, const Variable& x, const Variable& y)> make_model;
};

struct Options {
  std::string data = "fashion", model, init = "glorot", dtype, save, load, dump;  // dtype: floatX by default
  std::string orders;  // --orders: an .npz whose array "epoch<e>" is the row order of the reshuffle after epoch e
  int epochs = 10, batch = 500, hidden = 128, threads = 2;
  double lr = 0.3;
  double dropout = 0;  // --dropout: probability of dropping a hidden unit while training
  double clip = 0;     // --clip: bound on each gradient element; 0: none
  std::uint64_t seed = 1234;
  bool json = false, profile = false;
};

// ---- Command line and reporting ---------------------------------------------

inline Options parse(int argc, char** argv, const ExampleSpec& spec) {
  Options o;
  o.model = spec.models.front();
  o.hidden = spec.hidden;
  o.lr = spec.lr;
  o.batch = spec.batch;
  std::map<std::string, std::function<void(const std::string&)>> flags = {
      {"--data", [&](auto v) { o.data = v; }},      {"--model", [&](auto v) { o.model = v; }},
      {"--init", [&](auto v) { o.init = v; }},      {"--dtype", [&](auto v) { o.dtype = v; }},
      {"--save", [&](auto v) { o.save = v; }},      {"--load", [&](auto v) { o.load = v; }},
      {"--orders", [&](auto v) { o.orders = v; }},
      {"--dump", [&](auto v) { o.dump = v; }},
      {"--epochs", [&](auto v) { o.epochs = std::stoi(v); }},
      {"--batch", [&](auto v) { o.batch = std::stoi(v); }},
      {"--hidden", [&](auto v) { o.hidden = std::stoi(v); }},
      {"--threads", [&](auto v) { o.threads = std::stoi(v); }},
      {"--lr", [&](auto v) { o.lr = std::stod(v); }},
      {"--dropout", [&](auto v) { o.dropout = std::stod(v); }},
      {"--clip", [&](auto v) { o.clip = std::stod(v); }},
      {"--seed", [&](auto v) { o.seed = std::stoull(v); }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      o.json = true;
    } else if (arg == "--profile") {
      o.profile = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: " << spec.program << " [--data fashion|mnist|DIR] [--model " << fmt::format("{}", fmt::join(spec.models, "|")) << "] "
                   "[--init glorot|uniform01|uniform11] [--epochs N] [--batch N] [--lr X] [--hidden N] "
                   "[--dtype float64|float32] [--seed N] [--threads N] [--save FILE.npz] [--load FILE.npz] [--orders FILE.npz] [--json] "
                   "[--dump DIR] [--profile]" << (spec.takes_dropout ? " [--dropout P]" : "")
                << (spec.takes_clip ? " [--clip C]" : "")
                << "\n\nGRAPHJIT_FLAGS (comma-separated name=value) sets these options:\n"
                << graphjit::flags_help();
      std::exit(0);
    } else if (flags.count(arg) && i + 1 < argc) {
      flags[arg](argv[++i]);
    } else {
      throw std::invalid_argument("unknown or incomplete flag '" + arg + "' (see --help)");
    }
  }
  auto one_of = [](const std::string& flag, const std::string& v, std::vector<std::string> allowed) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      throw std::invalid_argument(fmt::format("{} must be one of {}, got '{}'", flag, fmt::join(allowed, "|"), v));
  };
  one_of("--model", o.model, spec.models);
  one_of("--init", o.init, {"glorot", "uniform01", "uniform11"});
  if (o.dtype.empty()) o.dtype = graphjit::dtype_name(graphjit::config().floatX);  // Theano's floatX, as in the seed
  one_of("--dtype", o.dtype, {"float64", "float32"});
  if (o.epochs < 1 || o.batch < 1 || o.hidden < 1 || o.threads < 1)
    throw std::invalid_argument("--epochs, --batch, --hidden and --threads must be at least 1");
  if (!(o.dropout >= 0 && o.dropout < 1)) throw std::invalid_argument("--dropout must be in [0, 1)");
  if (o.dropout != 0 && !spec.takes_dropout) throw std::invalid_argument(spec.program + " has no --dropout");
  if (!(o.clip >= 0)) throw std::invalid_argument("--clip must be at least 0");
  if (o.clip != 0 && !spec.takes_clip) throw std::invalid_argument(spec.program + " has no --clip");
  return o;
}

inline void progress(int epoch, int batch, int batches, double loss) {
  const int width = 30, done = width * (batch + 1) / batches;
  std::printf("\repoch %2d [%s%s] %d/%d loss %.4f", epoch, std::string(done, '#').c_str(),
              std::string(width - done, '.').c_str(), batch + 1, batches, loss);
  std::fflush(stdout);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// --dump DIR: the train function's graphs in every form graphjit prints.
inline void dump_graphs(const graphjit::Function& train, const std::string& dir) {
  namespace printing = graphjit::printing;
  for (auto [stage, name] : {std::pair{printing::Stage::before, "before"}, std::pair{printing::Stage::after, "after"},
                             std::pair{printing::Stage::schedule, "schedule"}}) {
    const std::string stem = fmt::format("{}/train.{}", dir, name);
    std::ofstream(stem + ".txt") << graphjit::debugprint(train, stage);
    printing::pydotprint(train, stem + ".dot", stage);
    printing::pydotprint(train, stem + ".html", stage);
    try {
      printing::pydotprint(train, stem + ".svg", stage);
    } catch (const std::runtime_error& e) {
      std::cerr << "no SVG: " << e.what() << "\n";
    }
  }
}

// The means of f's outputs over images [0, n), as one call would compute them,
// in equal calls of at most `batch` images (f's givens slice
// [index * size, (index + 1) * size), so the size is the largest divisor of n
// not above `batch`).
inline std::vector<double> mean_over(const graphjit::Function& f, int n, int batch) {
  int size = std::min(batch, n);
  while (n % size) --size;
  std::vector<double> means;
  for (int index = 0; index < n / size; ++index) {
    const auto out = f(index, size);
    means.resize(out.size());
    for (std::size_t k = 0; k < out.size(); ++k) means[k] += out[k].item<double>() * (static_cast<double>(size) / n);
  }
  return means;
}

// Row `epoch`'s order from an --orders .npz: the array "epoch<e>", as int64.
inline std::vector<std::int64_t> given_order(const std::string& path, int epoch) {
  const std::string key = fmt::format("epoch{}", epoch);
  for (auto& [name, array] : graphjit::load_npz(path))
    if (name == key) return array.astype(graphjit::int64).to_vector<std::int64_t>();
  throw std::invalid_argument(fmt::format("--orders {}: no array '{}' (one per epoch: epoch1, epoch2, ...)", path, key));
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline int run(const Options& o, const ExampleSpec& spec) {
  using clock = std::chrono::steady_clock;
  graphjit::set_num_threads(o.threads);
  const graphjit::DType floatX = graphjit::dtype_from_name(o.dtype);
  graphjit::Dataset datasets = graphjit::load_dataset(o.data, floatX, kClasses);
  if (!o.json) std::cout << datasets.description << "\n";
  Init init{o.init, graphjit::RandomState(o.seed), floatX};
  // --profile is the profile flag: each function's table (graphjit::Profile)
  // prints to stderr when the function is destroyed, at the end.
  if (o.profile) graphjit::config().profile = true;
  if (!o.dump.empty()) {  // LLVM IR and assembly of every module compiled from here on
    std::filesystem::create_directories(o.dump);
    graphjit::config().dump_ir = true;
    graphjit::config().dump_dir = o.dump;
  }

  // The data live in shared variables, as in the Theano tutorial.
  Tensor train_x = std::move(datasets.train.x), train_y = std::move(datasets.train.y);
  auto train_set_x = shared(train_x, "train_x", true), train_set_y = shared(train_y, "train_y", true);
  auto valid_set_x = shared(datasets.valid.x, "valid_x", true), valid_set_y = shared(datasets.valid.y, "valid_y", true);
  auto test_set_x = shared(datasets.test.x, "test_x", true), test_set_y = shared(datasets.test.y, "test_y", true);

  auto make_model = [&](const Variable& x, const Variable& y) { return spec.make_model(o, init, x, y); };
  Program program = build_program(make_model, o.lr, floatX, {train_set_x, train_set_y}, {valid_set_x, valid_set_y},
                                  {test_set_x, test_set_y});
  const double compile_seconds = program.train_seconds_to_compile;  // graph, grad, rewrites, LLVM
  Model& model = *program.model;
  if (!o.load.empty()) load_params(o.load, model);
  const graphjit::Function &train = program.train, &valid = program.valid, &test = program.test;
  if (!o.dump.empty()) {
    graphjit::config().dump_ir = false;
    dump_graphs(train, o.dump);
    if (!o.json) std::cout << "graphs and LLVM IR written to " << o.dump << "/\n";
  }

  const int n_epochs = o.epochs;
  const int batch_size = o.batch;
  const int batches_in_epoch = static_cast<int>(train_x.shape(0)) / batch_size;  // items in training set / batch size
  if (batches_in_epoch == 0)
    throw std::invalid_argument(fmt::format("--batch {} is larger than the training set ({} images)", batch_size,
                                            train_x.shape(0)));
  const bool tty = !o.json && isatty(fileno(stdout));
  graphjit::RandomState shuffler(o.seed + 1);
  std::vector<double> epoch_seconds;

  for (int epoch = 1; epoch <= n_epochs; ++epoch) {
    double epoch_loss = 0;
    const auto epoch_start = clock::now();
    for (int batch_n = 0; batch_n < batches_in_epoch; ++batch_n) {
      auto out = train(batch_n, batch_size);
      const double l = out[0].item<double>();
      epoch_loss += l;
      if (tty) progress(epoch, batch_n, batches_in_epoch, l);
    }
    epoch_seconds.push_back(seconds_since(epoch_start));
    // shuffle train set every epoch (by the given orders, which race.py
    // shares between systems, else by the seed's generator)
    auto shuffle = o.orders.empty() ? shuffler.permutation(train_x.shape(0)) : given_order(o.orders, epoch);
    graphjit::permute_rows(train_x, shuffle);
    graphjit::permute_rows(train_y, shuffle);
    train_set_x.set_value(train_x, true);
    train_set_y.set_value(train_y, true);

    const int n_valid = static_cast<int>(datasets.valid.x.shape(0));
    const auto v = mean_over(valid, n_valid, spec.evaluate_in_batches ? batch_size : n_valid);
    const double valid_l = v[0], valid_e = v[1];
    const double train_l = epoch_loss / batches_in_epoch;
    if (o.json) {
      std::cout << fmt::format(R"({{"epoch": {}, "train_loss": {:.17g}, "valid_loss": {:.17g}, "valid_accuracy": {:.17g}, "seconds": {:.6f}}})",
                               epoch, train_l, valid_l, valid_e, epoch_seconds.back())
                << std::endl;
    } else {
      if (tty) std::cout << "\r\033[K";
      std::cout << fmt::format("epoch {:2d}  train loss {:.4f}  validation loss {:.4f}  validation accuracy {:.4f}  {:.2f} s",
                               epoch, train_l, valid_l, valid_e, epoch_seconds.back())
                << std::endl;
    }
  }

  const int n_test = static_cast<int>(datasets.test.x.shape(0));
  const double acc = mean_over(test, n_test, spec.evaluate_in_batches ? batch_size : n_test)[0];
  // With --profile, the schedule's page again, now with each step's time in its tooltips.
  if (!o.dump.empty() && o.profile)
    graphjit::printing::pydotprint(train, o.dump + "/train.schedule.html", graphjit::printing::Stage::schedule);
  if (!o.save.empty()) {
    graphjit::NamedArrays arrays;
    for (auto& [key, param] : model.named_params()) arrays.emplace_back(key, param.get_value());
    graphjit::save_npz(o.save, arrays);
  }
  if (o.json) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::cout << fmt::format(R"({{"test_accuracy": {:.17g}, "compile_seconds": {:.6f}, "median_epoch_seconds": {:.6f}, "peak_rss_mb": {:.1f}}})",
                             acc, compile_seconds, median(epoch_seconds), usage.ru_maxrss / 1024.0)
              << std::endl;
  } else {
    std::cout << fmt::format("\nFinal accuracy: {:.4f}\n(train function compiled in {:.3f} s, median epoch {:.3f} s)\n",
                             acc, compile_seconds, median(epoch_seconds));
  }
  return 0;
}

inline int example_main(int argc, char** argv, const ExampleSpec& spec) {
  try {
    return run(parse(argc, argv, spec), spec);
  } catch (const std::exception& e) {
    std::cerr << spec.program << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace seed

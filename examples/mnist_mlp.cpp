// The seed program: "Training an MLP in Theano" (shared/seed/), ported to
// graphjit. Layer, MLP, loss, accuracy, updates, the train/valid/test
// functions with givens over shared data, and the epoch loop read line for
// line like the Theano original; the flags and reporting around them are ours.
//
//   mnist_mlp [--data fashion|mnist|DIR] [--model mlp|logreg]
//             [--init glorot|uniform01|uniform11] [--epochs N] [--batch N]
//             [--lr X] [--hidden N] [--dtype float64|float32] [--seed N]
//             [--threads N] [--save FILE.npz] [--load FILE.npz] [--json]
//             [--dump DIR] [--profile]
//
// --dtype defaults to the floatX flag (GRAPHJIT_FLAGS=floatX=float32), as the
// seed's Theano script follows theano.config.floatX.
// --dump DIR writes the train function's graph before and after the rewrites
// and its schedule (train.schedule.*: fused kernels, gemm calls, buffers,
// in-place updates; with --profile each step's time, rewritten after training)
// as text (debugprint), DOT, SVG (when Graphviz is installed) and HTML, and
// the LLVM IR (.ll, .opt.ll) and assembly (.s) of every compiled module; the
// train function's is compiled first, so its module has the lowest number.
#include "mnist_driver.hpp"
#include "seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <iostream>
#include <string>

using namespace seed;
using namespace mnist_driver;

int run(const Options& o) {
  prepare(o);
  const graphjit::DType floatX = graphjit::dtype_from_name(o.dtype);
  SharedData data = load_shared_data(o, floatX, kClasses);
  if (!o.json) std::cout << data.description << "\n";
  Init init{o.init, graphjit::RandomState(o.seed), floatX};

  Program program = build_program(o.model, o.hidden, o.lr, floatX, init, {data.train.x, data.train.y},
                                  {data.valid.x, data.valid.y}, {data.test.x, data.test.y});
  if (!o.load.empty()) load_params(o.load, *program.model);
  Trainable model{program.train, program.valid, program.test, program.model->named_params(),
                  program.train_seconds_to_compile};  // graph, grad, rewrites, LLVM
  return train_and_report(o, data, model, "mnist_mlp");
}

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv, Options{}, {.program = "mnist_mlp", .models = {"mlp", "logreg"}}));
  } catch (const std::exception& e) {
    std::cerr << "mnist_mlp: " << e.what() << "\n";
    return 1;
  }
}

// Sequential MNIST by rows: a recurrent network reads each 28x28 image as 28
// steps of 28 pixels and classifies it from its last hidden state.
//
//   h_0 = 0,  h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),  p = softmax(h_28 W_hy + b_y)
//
// built with one graphjit::scan (the loop is in the graph, compiled once;
// x_t W_xh for all t is one GEMM before the loop), trained with plain SGD on
// the mean negative log-likelihood. Data, split, flags, --json fields and the
// epoch loop are mnist_mlp's (mnist_driver.hpp), with these defaults:
// --batch 100, --lr 0.05, --hidden 128; --clip C clips every gradient element
// to [-C, C] (no clipping unless given). --save writes W_xh (28,128), W_hh
// (128,128), b_h, W_hy (128,10) and b_y.
#include "mnist_driver.hpp"
#include "rnn_model.hpp"
#include "seed_model.hpp"

#include <graphjit/graphjit.hpp>

#include <iostream>
#include <string>

using namespace mnist_driver;

namespace {

int run(const Options& o) {
  prepare(o);
  const graphjit::DType floatX = graphjit::dtype_from_name(o.dtype);
  SharedData data = load_shared_data(o, floatX, seed::kClasses);
  if (!o.json) std::cout << data.description << "\n";
  seed::Init init{o.init, graphjit::RandomState(o.seed), floatX};
  Trainable model = rnn::build_rnn(o.hidden, o.lr, o.clip, floatX, init, data.train, data.valid, data.test);
  if (!o.load.empty()) seed::load_params(o.load, model.params);
  return train_and_report(o, data, model, "rnn_mnist");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options defaults;
    defaults.model = "rnn";
    defaults.batch = 100;
    defaults.lr = 0.05;
    return run(parse(argc, argv, defaults, {.program = "rnn_mnist", .models = {"rnn"}, .extra_flags = "[--clip C]"}));
  } catch (const std::exception& e) {
    std::cerr << "rnn_mnist: " << e.what() << "\n";
    return 1;
  }
}

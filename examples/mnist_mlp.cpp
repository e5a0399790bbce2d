// The seed program: "Training an MLP in Theano" (shared/seed/), ported to
// graphjit. Layer, MLP, loss, accuracy, updates and the train/valid/test
// functions are in seed_model.hpp, read line for line like the Theano
// original; the flags, epoch loop and reporting (example_driver.hpp) are ours.
// `mnist_mlp --help` lists the flags.
#include "example_driver.hpp"

int main(int argc, char** argv) {
  using namespace seed;
  const ExampleSpec spec{
      .program = "mnist_mlp", .models = {"mlp", "logreg"}, .hidden = 128, .lr = 0.3, .takes_dropout = true,
      .make_model = [](const Options& o, Init& init, const Variable& x, const Variable&) -> std::unique_ptr<Model> {
        if (o.model == "logreg") return std::make_unique<LogReg>(x, kPixels, kClasses, init);  // basic logistic model
        const Dropout dropout{o.dropout, o.seed + 2};  // none unless --dropout
        return std::make_unique<MLP>(x, kPixels, o.hidden, kClasses, init, dropout);  // basic multi-layer perceptron
      }};
  return example_main(argc, argv, spec);
}

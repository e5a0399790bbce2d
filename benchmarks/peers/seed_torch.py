#!/usr/bin/python3
"""The seed MLP in PyTorch, eager or TorchScript: a race peer.

Same model, data split, initialisation and shuffle order as seed_numpy.py (the
Glorot weights and the epoch permutations come from the same seeded NumPy
generator), so with equal --seed the two trace the same training run up to
rounding. Backward is autograd; the update runs outside autograd.

--variant eager   the loss function as plain Python
--variant script  the loss function compiled with torch.jit.script (the
                  profiling executor specialises it over the first calls)
--update grad     torch.autograd.grad + p.sub_ under no_grad (default: measured fastest)
--update optim    loss.backward() + torch.optim.SGD.step()
Prints the peer_report JSON lines. Threads: 2 (--threads); run it with
OMP_WAIT_POLICY=PASSIVE, as race.py does (see benchmarks/peers/README.md).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import peer_report  # noqa: E402
import seed_numpy  # noqa: E402

PARAM_ORDER = ("W1", "b1", "W2", "b2")


def loss_and_output(x: torch.Tensor, y: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                    W2: torch.Tensor, b2: torch.Tensor):
    hidden = torch.tanh(torch.addmm(b1, x, W1))
    out = torch.softmax(torch.addmm(b2, hidden, W2), dim=1)
    one_hot = F.one_hot(y, 10).to(out.dtype)
    return torch.mean((one_hot - out) ** 2), out


def accuracy(out, y):
    return (out.argmax(dim=1) == y).to(torch.float64).mean()


class GradStep:
    """autograd.grad returns fresh gradients, so nothing accumulates and nothing needs zeroing."""

    def __init__(self, loss_fn, params):
        self.loss_fn, self.params = loss_fn, params

    def __call__(self, x, y):
        loss, out = self.loss_fn(x, y, *self.params)
        grads = torch.autograd.grad(loss, self.params)
        with torch.no_grad():
            for p, g in zip(self.params, grads):
                p.sub_(g, alpha=seed_numpy.LEARNING_RATE)
            return loss.item(), accuracy(out, y).item()


class OptimStep:
    def __init__(self, loss_fn, params):
        self.loss_fn, self.params = loss_fn, params
        self.optimizer = torch.optim.SGD(params, lr=seed_numpy.LEARNING_RATE)

    def __call__(self, x, y):
        self.optimizer.zero_grad(set_to_none=True)
        loss, out = self.loss_fn(x, y, *self.params)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            return loss.item(), accuracy(out, y).item()


STEPS = {"grad": GradStep, "optim": OptimStep}


def evaluate(loss_fn, params, x, y):
    with torch.no_grad():
        loss, out = loss_fn(x, y, *params)
        return loss.item(), accuracy(out, y).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=["eager", "script"], default="eager")
    parser.add_argument("--update", choices=sorted(STEPS), default="grad")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=fashion_data.DEFAULT_DIR)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)

    data = {split: (torch.from_numpy(x), torch.from_numpy(y))
            for split, (x, y) in fashion_data.load(dtype, args.data_dir).items()}
    init = seed_numpy.glorot_init(rng, dtype)
    params = [torch.from_numpy(init[name]).requires_grad_() for name in PARAM_ORDER]
    loss_fn = torch.jit.script(loss_and_output) if args.variant == "script" else loss_and_output
    step = STEPS[args.update](loss_fn, params)

    train_x, train_y = data["train"]
    batch = seed_numpy.BATCH
    batches = train_x.shape[0] // batch
    epoch_seconds = []
    for epoch in range(args.epochs):
        losses = []
        start = time.perf_counter()
        for k in range(batches):
            loss, _ = step(train_x[k * batch:(k + 1) * batch], train_y[k * batch:(k + 1) * batch])
            losses.append(loss)
        epoch_seconds.append(time.perf_counter() - start)
        order = torch.from_numpy(rng.permutation(train_x.shape[0]))
        train_x, train_y = train_x[order], train_y[order]
        valid_loss, valid_accuracy = evaluate(loss_fn, params, *data["valid"])
        peer_report.epoch_line(epoch + 1, np.mean(losses), valid_loss, valid_accuracy,
                               epoch_seconds[-1])
    _, test_accuracy = evaluate(loss_fn, params, *data["test"])
    peer_report.final_line(test_accuracy, epoch_seconds)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""examples/rnn_mnist's RNN in PyTorch: a race peer for the RNN workload.

Sequential Fashion-MNIST by rows: h_0 = 0, h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)
over the 28 rows of each image, p = softmax(h_28 W_hy + b_y), mean negative
log-likelihood, plain SGD (lr 0.05, batch 100), epoch 1 in file order and a
reshuffle after each epoch (the same data split as every peer, fashion_data.py).

--variant loop   eager autograd with a Python loop over the 28 steps
--variant nn     torch.nn.RNN (its own fused loop; it has a second bias b_hh,
                 initialised to zero and trained like the rest)
--order FILE.npy  row e-1 is the reshuffle after epoch e (race.py gives every
                 system the same file); default: --seed's generator
--init FILE.npz  start from these parameters (keys W_xh, W_hh, b_h, W_hy, b_y:
                 race.py passes graphjit the same file with --load); default:
                 Glorot uniform from --seed
Prints the peer_report JSON lines.
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

STEPS, ROW, HIDDEN, CLASSES = 28, 28, 128, 10
LEARNING_RATE, BATCH = 0.05, 100


def glorot_init(rng, dtype, hidden=HIDDEN):
    shapes = {"W_xh": (ROW, hidden), "W_hh": (hidden, hidden), "W_hy": (hidden, CLASSES)}
    params = {}
    for name in ("W_xh", "W_hh", "W_hy"):
        bound = np.sqrt(6.0 / sum(shapes[name]))
        params[name] = rng.uniform(-bound, bound, size=shapes[name]).astype(dtype)
    params["b_h"] = np.zeros(hidden, dtype=dtype)
    params["b_y"] = np.zeros(CLASSES, dtype=dtype)
    return params


class LoopModel:
    def __init__(self, init):
        self.params = [torch.from_numpy(init[k].copy()).requires_grad_() for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")]

    def logits(self, x):
        W_xh, W_hh, b_h, W_hy, b_y = self.params
        rows = x.view(-1, STEPS, ROW).transpose(0, 1)
        h = torch.zeros(x.shape[0], W_hh.shape[0], dtype=x.dtype)
        for t in range(STEPS):
            h = torch.tanh(rows[t] @ W_xh + h @ W_hh + b_h)
        return h @ W_hy + b_y


class NnModel:
    def __init__(self, init):
        dtype = torch.from_numpy(init["W_hh"]).dtype
        self.rnn = torch.nn.RNN(ROW, init["W_hh"].shape[0], nonlinearity="tanh").to(dtype)
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(torch.from_numpy(init["W_xh"].T.copy()))
            self.rnn.weight_hh_l0.copy_(torch.from_numpy(init["W_hh"].T.copy()))
            self.rnn.bias_ih_l0.copy_(torch.from_numpy(init["b_h"]))
            self.rnn.bias_hh_l0.zero_()
        self.W_hy = torch.from_numpy(init["W_hy"].copy()).requires_grad_()
        self.b_y = torch.from_numpy(init["b_y"].copy()).requires_grad_()
        self.params = list(self.rnn.parameters()) + [self.W_hy, self.b_y]

    def logits(self, x):
        rows = x.view(-1, STEPS, ROW).transpose(0, 1)
        _, h = self.rnn(rows)
        return h[-1] @ self.W_hy + self.b_y


def step(model, x, y):
    loss = F.cross_entropy(model.logits(x), y)
    grads = torch.autograd.grad(loss, model.params)
    with torch.no_grad():
        for p, g in zip(model.params, grads):
            p.sub_(g, alpha=LEARNING_RATE)
    return loss.item()


def evaluate(model, x, y):
    with torch.no_grad():
        logits = model.logits(x)
        return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).to(torch.float64).mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=["loop", "nn"], default="loop")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--init", metavar="FILE.npz")
    parser.add_argument("--order", metavar="FILE.npy")
    parser.add_argument("--data-dir", default=fashion_data.DEFAULT_DIR)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)
    data = {split: (torch.from_numpy(x), torch.from_numpy(y))
            for split, (x, y) in fashion_data.load(dtype, args.data_dir).items()}
    if args.init:
        with np.load(args.init) as saved:
            init = {k: saved[k].astype(dtype) for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}
    else:
        init = glorot_init(rng, dtype)
    model = (LoopModel if args.variant == "loop" else NnModel)(init)
    train_x, train_y = data["train"]
    orders = fashion_data.load_orders(args.order, args.epochs, train_x.shape[0]) if args.order else None
    batches = train_x.shape[0] // BATCH
    epoch_seconds = []
    for epoch in range(args.epochs):
        losses = []
        start = time.perf_counter()
        for k in range(batches):
            losses.append(step(model, train_x[k * BATCH:(k + 1) * BATCH], train_y[k * BATCH:(k + 1) * BATCH]))
        epoch_seconds.append(time.perf_counter() - start)
        if epoch + 1 < args.epochs:  # the reshuffle (nothing reads one after the last epoch)
            order = orders[epoch] if orders is not None else rng.permutation(train_x.shape[0])
            order = torch.from_numpy(np.asarray(order, dtype=np.int64))
            train_x, train_y = train_x[order], train_y[order]
        valid_loss, valid_accuracy = evaluate(model, *data["valid"])
        peer_report.epoch_line(epoch + 1, np.mean(losses), valid_loss, valid_accuracy, epoch_seconds[-1])
    _, test_accuracy = evaluate(model, *data["test"])
    peer_report.final_line(test_accuracy, epoch_seconds)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""LeNet (the deeplearning.net tutorial's convolutional_mlp.py) in PyTorch eager: a race peer.

Same model as examples/lenet (conv 20x5x5 -> 2x2 max pool -> tanh(+b) -> conv
50x5x5 -> pool -> tanh(+b) -> tanh(800->500) -> softmax(500->10)), mean negative
log-likelihood, plain SGD lr 0.1, batch 500, the tutorial's init (uniform
+-sqrt(6/(fan_in+fan_out)), fan_out = out_channels*kh*kw/pool area; the output
layer from zeros), drawn from a seeded NumPy generator. torch's conv2d is a
cross-correlation: with filters drawn symmetric about zero, the flip Theano does
changes nothing about the distribution, so no flip is applied.
Prints the peer_report JSON lines; epoch 1 visits the training set in file order.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import peer_report  # noqa: E402

BATCH = 500
LEARNING_RATE = 0.1


def init_params(rng, dtype):
    def uniform(shape, fan_in, fan_out):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape).astype(dtype)
    return [uniform((20, 1, 5, 5), 25, 20 * 25 // 4), np.zeros(20, dtype),
            uniform((50, 20, 5, 5), 500, 50 * 25 // 4), np.zeros(50, dtype),
            uniform((800, 500), 800, 500), np.zeros(500, dtype),
            np.zeros((500, 10), dtype), np.zeros(10, dtype)]


def log_probs(x, conv1_W, conv1_b, conv2_W, conv2_b, fc_W, fc_b, out_W, out_b):
    h = x.reshape(-1, 1, 28, 28)
    h = torch.tanh(F.max_pool2d(F.conv2d(h, conv1_W), 2) + conv1_b.view(1, -1, 1, 1))
    h = torch.tanh(F.max_pool2d(F.conv2d(h, conv2_W), 2) + conv2_b.view(1, -1, 1, 1))
    h = torch.tanh(torch.addmm(fc_b, h.flatten(1), fc_W))
    return F.log_softmax(torch.addmm(out_b, h, out_W), dim=1)


def evaluate(params, x, y):
    with torch.no_grad():
        losses, correct = 0.0, 0.0
        for k in range(0, x.shape[0], BATCH):
            lp = log_probs(x[k:k + BATCH], *params)
            losses += F.nll_loss(lp, y[k:k + BATCH], reduction="sum").item()
            correct += (lp.argmax(dim=1) == y[k:k + BATCH]).sum().item()
        return losses / x.shape[0], correct / x.shape[0]


def train_step(params, x, y):
    loss = F.nll_loss(log_probs(x, *params), y)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(g, alpha=LEARNING_RATE)
    return loss.item()


def time_steps(params, steps, dtype):
    """Seconds per train step on one random batch (after one warm-up step): what bench_lenet compares with."""
    x = torch.rand(BATCH, 784, dtype=getattr(torch, dtype.name))
    y = torch.randint(0, 10, (BATCH,))
    train_step(params, x, y)
    start = time.perf_counter()
    for _ in range(steps):
        train_step(params, x, y)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-steps", type=int, default=0,
                        help="only time this many train steps on random data and print {\"seconds_per_step\": ...}")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=fashion_data.DEFAULT_DIR)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)
    if args.time_steps > 0:
        params = [torch.from_numpy(p).requires_grad_() for p in init_params(rng, dtype)]
        print(json.dumps({"seconds_per_step": time_steps(params, args.time_steps, dtype)}))
        return
    data = {split: (torch.from_numpy(x), torch.from_numpy(y).long())
            for split, (x, y) in fashion_data.load(dtype, args.data_dir).items()}
    params = [torch.from_numpy(p).requires_grad_() for p in init_params(rng, dtype)]
    train_x, train_y = data["train"]
    epoch_seconds = []
    for epoch in range(args.epochs):
        losses = []
        start = time.perf_counter()
        for k in range(train_x.shape[0] // BATCH):
            losses.append(train_step(params, train_x[k * BATCH:(k + 1) * BATCH], train_y[k * BATCH:(k + 1) * BATCH]))
        epoch_seconds.append(time.perf_counter() - start)
        order = torch.from_numpy(rng.permutation(train_x.shape[0]))
        train_x, train_y = train_x[order], train_y[order]
        valid_loss, valid_accuracy = evaluate(params, *data["valid"])
        peer_report.epoch_line(epoch + 1, np.mean(losses), valid_loss, valid_accuracy, epoch_seconds[-1])
    _, test_accuracy = evaluate(params, *data["test"])
    peer_report.final_line(test_accuracy, epoch_seconds)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The seed MLP in NumPy with a hand-written backward pass: a race peer and the reference.

Model (the Theano program in shared/seed): hidden = tanh(x @ W1 + b1),
out = softmax(hidden @ W2 + b2), loss = mean((one_hot(y, 10) - out) ** 2) over
all batch x 10 elements, accuracy = mean(argmax(out, 1) == y), plain SGD
p -= 0.3 * grad(loss, p) for W1, b1, W2, b2, batch 500.

Race mode (default): prints the peer_report JSON lines.

Reference mode: --dump-losses N --init-npz FILE [--dtype D] starts from the
weights in FILE (keys W1 (784,128), b1 (128,), W2 (128,10), b2 (10,); cast to D)
and runs training steps 0..N-1 on the training set in file order, without any
shuffle: step k trains on rows k*500 .. (k+1)*500 - 1 of the training set, which
are rows k*500 .. (k+1)*500 - 1 of train-images-idx3-ubyte.gz (the training set is
its first 50,000 rows), so N <= 100. It prints one JSON object
{"dtype": D, "batch_size": 500, "learning_rate": 0.3, "losses": [l0, ..., l(N-1)],
 "accuracies": [a0, ..., a(N-1)], "valid": [loss, accuracy], "test_accuracy": [accuracy]}
where lk and ak are the loss and accuracy step k returns: computed on batch k with
the weights from before step k's update (what Theano's train(k, 500) returns);
"valid" and "test_accuracy" are those of the whole validation and test sets
with the weights after step N-1. json writes floats
with repr, so every value round-trips exactly.
--reshuffle-npz FILE (with --dump-losses) trains as the example does with its per-epoch
reshuffle, on a smaller training set: FILE holds int64 arrays order0, order1, ... of one
length R (a multiple of 500); the training set is its first R rows, an epoch is R/500 steps,
and after epoch e the rows are reordered as numpy's x[order<e>] (row i becomes old row
order<e>[i]). N may then span several epochs.
--save-init FILE --seed S writes a Glorot initialisation in that format.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import peer_report  # noqa: E402

HIDDEN = 128
BATCH = 500
LEARNING_RATE = 0.3
PARAM_SHAPES = {"W1": (fashion_data.IMAGE_PIXELS, HIDDEN), "b1": (HIDDEN,),
                "W2": (HIDDEN, fashion_data.CLASSES), "b2": (fashion_data.CLASSES,)}


def glorot_init(rng, dtype):
    """W ~ uniform(-sqrt(6/(n_in+n_out)), +sqrt(6/(n_in+n_out))), b = 0; W1 drawn before W2."""
    params = {}
    for layer in ("1", "2"):
        n_in, n_out = PARAM_SHAPES["W" + layer]
        bound = np.sqrt(6.0 / (n_in + n_out))
        params["W" + layer] = rng.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)
        params["b" + layer] = np.zeros(n_out, dtype=dtype)
    return params


def load_params(path, dtype):
    with np.load(path) as saved:
        missing = sorted(set(PARAM_SHAPES) - set(saved.files))
        if missing:
            raise KeyError(f"{path} lacks {missing}; it needs keys W1, b1, W2, b2")
        params = {name: saved[name].astype(dtype) for name in PARAM_SHAPES}
    for name, shape in PARAM_SHAPES.items():
        if params[name].shape != shape:
            raise ValueError(f"{path}: {name} has shape {params[name].shape}, expected {shape}")
    return params


def forward(params, x):
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    logits = hidden @ params["W2"] + params["b2"]
    # subtracting the row max keeps exp finite; softmax is unchanged by it
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    out = exp / exp.sum(axis=1, keepdims=True)
    return hidden, out


def loss_and_accuracy(out, y):
    one_hot = np.eye(fashion_data.CLASSES, dtype=out.dtype)[y]
    loss = np.mean((one_hot - out) ** 2)
    accuracy = np.mean(out.argmax(axis=1) == y)
    return loss, accuracy, one_hot


def train_step(params, x, y, learning_rate=LEARNING_RATE):
    """One SGD step in place; returns (loss, accuracy) of the weights before the update."""
    hidden, out = forward(params, x)
    loss, accuracy, one_hot = loss_and_accuracy(out, y)
    # d loss / d out of mean over batch*10 squared errors
    d_out = (out - one_hot) * out.dtype.type(2.0 / out.size)
    # softmax Jacobian-vector product: out * (d_out - <d_out, out> per row)
    d_logits = out * (d_out - (d_out * out).sum(axis=1, keepdims=True))
    d_hidden = d_logits @ params["W2"].T
    d_pre_hidden = d_hidden * (1 - hidden * hidden)  # tanh' = 1 - tanh^2
    grads = {"W2": hidden.T @ d_logits, "b2": d_logits.sum(axis=0),
             "W1": x.T @ d_pre_hidden, "b1": d_pre_hidden.sum(axis=0)}
    rate = out.dtype.type(learning_rate)
    for name, grad in grads.items():
        params[name] -= rate * grad
    return loss, accuracy


def evaluate(params, x, y):
    _, out = forward(params, x)
    loss, accuracy, _ = loss_and_accuracy(out, y)
    return loss, accuracy


def load_orders(path):
    """The reshuffles of --reshuffle-npz: order0, order1, ... in that order."""
    with np.load(path) as saved:
        orders = [saved[f"order{e}"] for e in range(len(saved.files))]
    rows = len(orders[0]) if orders else 0
    if rows == 0 or rows % BATCH or any(sorted(o) != list(range(rows)) for o in orders):
        raise ValueError(f"{path}: needs order0, order1, ...: permutations of 0..R-1, R a multiple of {BATCH}")
    return orders


def dump_losses(train_x, train_y, params, steps, orders=None):
    if orders:
        train_x, train_y = train_x[:len(orders[0])], train_y[:len(orders[0])]
    batches = train_x.shape[0] // BATCH
    epochs = len(orders) + 1 if orders else 1
    if not 1 <= steps <= batches * epochs:
        raise ValueError(f"--dump-losses {steps}: must be 1..{batches * epochs}, the batches of "
                         f"{epochs} epoch(s): one more than the reshuffles given")
    losses, accuracies = [], []
    for k in range(steps):
        if k and k % batches == 0:
            order = orders[k // batches - 1]
            train_x, train_y = train_x[order], train_y[order]
        rows = slice(k % batches * BATCH, (k % batches + 1) * BATCH)
        loss, accuracy = train_step(params, train_x[rows], train_y[rows])
        losses.append(float(loss))
        accuracies.append(float(accuracy))
    return losses, accuracies


def train(data, params, epochs, rng):
    train_x, train_y = data["train"]
    batches = train_x.shape[0] // BATCH
    epoch_seconds = []
    for epoch in range(epochs):
        losses = []
        start = time.perf_counter()
        for k in range(batches):
            rows = slice(k * BATCH, (k + 1) * BATCH)
            loss, _ = train_step(params, train_x[rows], train_y[rows])
            losses.append(loss)
        epoch_seconds.append(time.perf_counter() - start)
        order = rng.permutation(train_x.shape[0])
        train_x, train_y = train_x[order], train_y[order]
        valid_loss, valid_accuracy = evaluate(params, *data["valid"])
        peer_report.epoch_line(epoch + 1, np.mean(losses), valid_loss, valid_accuracy,
                               epoch_seconds[-1])
    _, test_accuracy = evaluate(params, *data["test"])
    peer_report.final_line(test_accuracy, epoch_seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--data-dir", default=fashion_data.DEFAULT_DIR)
    parser.add_argument("--dump-losses", type=int, metavar="N")
    parser.add_argument("--init-npz", metavar="FILE")
    parser.add_argument("--save-init", metavar="FILE")
    parser.add_argument("--reshuffle-npz", metavar="FILE")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)

    if args.save_init:
        np.savez(args.save_init, **glorot_init(rng, dtype))
        return
    if args.dump_losses is not None:
        if not args.init_npz:
            parser.error("--dump-losses needs --init-npz FILE (keys W1, b1, W2, b2)")
        data = fashion_data.load(dtype, args.data_dir)
        try:
            params = load_params(args.init_npz, dtype)
            orders = load_orders(args.reshuffle_npz) if args.reshuffle_npz else None
            losses, accuracies = dump_losses(*data["train"], params, args.dump_losses, orders)
        except (KeyError, ValueError) as error:
            parser.error(str(error))
        valid_loss, valid_accuracy = evaluate(params, *data["valid"])
        _, test_accuracy = evaluate(params, *data["test"])
        print(json.dumps({"dtype": args.dtype, "batch_size": BATCH,
                          "learning_rate": LEARNING_RATE, "losses": losses,
                          "accuracies": accuracies,
                          "valid": [float(valid_loss), float(valid_accuracy)],
                          "test_accuracy": [float(test_accuracy)]}))
        return
    data = fashion_data.load(dtype, args.data_dir)
    params = load_params(args.init_npz, dtype) if args.init_npz else glorot_init(rng, dtype)
    train(data, params, args.epochs, rng)


if __name__ == "__main__":
    main()

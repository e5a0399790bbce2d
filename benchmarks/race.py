#!/usr/bin/python3
"""Training-speed race on Fashion-MNIST in graphjit and its peers: the seed MLP
(--workload mlp, the default), the tutorial's LeNet (--workload lenet) or the RNN
over rows of examples/rnn_mnist (--workload rnn).

Runs every system at float64 and float32 in one session, one after another (two
cores: running them side by side would race them against each other, not the
clock), reads the JSON lines each prints (benchmarks/peers/peer_report.py), and
prints a table with graphjit's time relative to each peer. Writes
docs/benchmark.md (the table, the command, the machine) and docs/benchmark.png
(epoch times and validation-loss curves).

    /usr/bin/python3 benchmarks/race.py [--epochs 3] [--systems numpy,libtorch,...]
    /usr/bin/python3 benchmarks/race.py --workload lenet (writes docs/benchmark_lenet.md, .png)
    /usr/bin/python3 benchmarks/race.py --workload lenet --epochs 1 --train-rows 1000 --docs /tmp/x
        (a smoke run of the plumbing: 2 batches per epoch, validation and test whole)
    /usr/bin/python3 benchmarks/race.py --workload rnn   (writes docs/benchmark_rnn.md, .png)

Validation accuracy from one start is one draw of rounding drift;
benchmarks/accuracy_trials.py compares it over several starts.

Install the peers first with benchmarks/setup-peers.sh. A system that cannot
run (graphjit not built yet, LibTorch missing) is reported as not available and
the rest still race. Use /usr/bin/python3: the peers need Debian's NumPy and torch.
"""
import argparse
import datetime
import glob
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCHMARKS)
PEERS = os.path.join(BENCHMARKS, "peers")
PEER_BUILD = os.path.join(PEERS, "build")  # ignored by the repo's build*/ pattern
PYTHON = "/usr/bin/python3"
DTYPES = ("float64", "float32")
GRAPHJIT = "graphjit"

# Every system gets the same two threads. OMP_WAIT_POLICY=PASSIVE stops torch's
# OpenMP workers spinning between ops, where they starve OpenBLAS's own threads
# on two cores: measured 2-4x faster epochs for torch (benchmarks/peers/README.md).
RACE_ENV = {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}

# How the C++ peers are built: plain g++, so the project's CMake never needs torch.
LIBTORCH_BUILD = ["-isystem", "/usr/include/torch/csrc/api/include", "{src}", "-o", "{out}",
                  "-ltorch", "-ltorch_cpu", "-lc10", "-lz"]
CXX_PEERS = {
    "seed_libtorch": LIBTORCH_BUILD,
    "rnn_libtorch": LIBTORCH_BUILD,
    "lenet_libtorch": LIBTORCH_BUILD,
    "gemm_bound": ["-I/usr/include/x86_64-linux-gnu/openblas-pthread", "{src}", "-o", "{out}",
                   "-lopenblas"],
}


class NotAvailable(Exception):
    """The system cannot run here; the message says why and what to do."""


def build_cxx_peer(name):
    src = os.path.join(PEERS, name + ".cpp")
    out = os.path.join(PEER_BUILD, name)
    # Any header of the folder (libtorch_peer.hpp) counts as a source of every peer.
    newest_source = max(os.path.getmtime(f) for f in [src] + glob.glob(os.path.join(PEERS, "*.hpp")))
    if os.path.exists(out) and os.path.getmtime(out) >= newest_source:
        return out
    os.makedirs(PEER_BUILD, exist_ok=True)
    args = [a.format(src=src, out=out) for a in CXX_PEERS[name]]
    command = ["g++", "-O2", "-std=c++17", "-Wall", "-Wextra"] + args
    print(f"building {name}: {shlex.join(command)}", file=sys.stderr)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise NotAvailable(f"{name}.cpp did not build (run benchmarks/setup-peers.sh): "
                           + result.stderr.strip().splitlines()[-1])
    return out


def find_graphjit(explicit, program="mnist_mlp"):
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise NotAvailable(f"--graphjit {explicit} is not an executable")
        return explicit
    candidates = [p for p in glob.glob(os.path.join(REPO, "build*", "examples", program))
                  if os.access(p, os.X_OK)]
    if not candidates:
        raise NotAvailable(f"no build*/examples/{program}: build the {program} example "
                           "or pass --graphjit PATH")
    return max(candidates, key=os.path.getmtime)  # the freshest build


def python_peer(script, *flags):
    return lambda dtype, epochs: [PYTHON, os.path.join(PEERS, script), *flags,
                                  "--dtype", dtype, "--epochs", str(epochs)]


def cxx_peer(name, *flags):
    def command(dtype, epochs):
        return [build_cxx_peer(name), *flags, "--dtype", dtype, "--epochs", str(epochs)]
    return command


# name -> (what it is, how to run it at a dtype for some epochs)
SYSTEMS = {
    GRAPHJIT: ("graphjit (examples/mnist_mlp)", None),  # its command needs --graphjit; see main
    "numpy": ("NumPy, hand-written backward", python_peer("seed_numpy.py")),
    "torch-eager": ("PyTorch 1.13 eager, autograd", python_peer("seed_torch.py", "--variant", "eager")),
    "torch-script": ("PyTorch 1.13 torch.jit.script, autograd",
                     python_peer("seed_torch.py", "--variant", "script")),
    "libtorch": ("LibTorch 1.13 C++, autograd", cxx_peer("seed_libtorch")),
    "gemm-bound": ("OpenBLAS GEMMs only (lower bound)", cxx_peer("gemm_bound")),
}


# The RNN workload (examples/rnn_mnist): every system starts from the same
# parameters, an .npz race.py draws once (Glorot uniform, seed 1234).
RNN_SYSTEMS = {
    GRAPHJIT: ("graphjit (examples/rnn_mnist, one scan)", None),
    "torch-loop": ("PyTorch 1.13 eager, Python loop over the 28 steps",
                   python_peer("rnn_torch.py", "--variant", "loop")),
    "torch-rnn": ("PyTorch 1.13 torch.nn.RNN", python_peer("rnn_torch.py", "--variant", "nn")),
    "libtorch-loop": ("LibTorch 1.13 C++, a loop over the 28 steps",
                      cxx_peer("rnn_libtorch", "--variant", "loop")),
    "libtorch-rnn": ("LibTorch 1.13 C++ torch::nn::RNN", cxx_peer("rnn_libtorch", "--variant", "nn")),
}


# The LeNet workload (examples/lenet, the tutorial's convolutional_mlp.py): graphjit
# against the same model in PyTorch eager and in LibTorch, all from the same
# parameters (the tutorial's init drawn once, seed 1234, in examples/lenet's
# checkpoint layout) and on the same batches (epoch 1 in file order, then the
# permutations of one order file, seed 1235).
LENET_SYSTEMS = {
    GRAPHJIT: ("graphjit (examples/lenet)", None),
    "torch-eager": ("PyTorch 1.13 eager, torch.nn.functional, autograd", python_peer("lenet_torch.py")),
    "libtorch": ("LibTorch 1.13 C++, autograd", cxx_peer("lenet_libtorch")),
}


def write_orders(path, epochs, rows, seed):
    """Row e-1 of the file is the training set's reshuffle after epoch e, the same
    for every system of a workload (their --order flag)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    np.save(path, np.stack([rng.permutation(rows) for _ in range(max(epochs - 1, 1))]).astype(np.int64))


def write_start(workload_name, epochs, train_rows=0, trial=0):
    """Writes the one init and the epoch orders every system of a workload reads
    (--init or --load, and --order) and returns their paths. Trial 0 is the race's
    start (init seed 1234, order seed 1235); benchmarks/accuracy_trials.py draws
    trial k from both seeds plus 1000 k."""
    sys.path.insert(0, PEERS)
    import numpy as np
    import fashion_data
    module_name, function_name = WORKLOADS[workload_name]["draw_init"]
    draw_init = getattr(importlib.import_module(module_name), function_name)
    os.makedirs(PEER_BUILD, exist_ok=True)
    suffix = f"_trial{trial}" if trial else ""
    init = os.path.join(PEER_BUILD, f"{workload_name}_init{suffix}.npz")
    order = os.path.join(PEER_BUILD, f"{workload_name}_order{suffix}.npy")
    np.savez(init, **draw_init(np.random.default_rng(1234 + 1000 * trial), np.float64))
    write_orders(order, epochs, train_rows or fashion_data.TRAIN_ROWS, 1235 + 1000 * trial)
    return init, order


WORKLOADS = {
    "mlp": {"systems": SYSTEMS, "program": "mnist_mlp", "docs": "benchmark", "draw_init": None},
    "lenet": {"systems": LENET_SYSTEMS, "program": "lenet", "docs": "benchmark_lenet",
              "draw_init": ("lenet_torch", "init_params")},
    "rnn": {"systems": RNN_SYSTEMS, "program": "rnn_mnist", "docs": "benchmark_rnn",
            "draw_init": ("rnn_torch", "glorot_init")},
}


def start_flags(name, start):
    """The flags that give system `name` the start write_start wrote (None: its own)."""
    if start is None:
        return []
    init, order = start
    return ["--load" if name == GRAPHJIT else "--init", init, "--order", order]


def run_one(command, timeout):
    env = dict(os.environ, **RACE_ENV)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                            cwd=REPO)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise NotAvailable(f"{shlex.join(command)} exited {result.returncode}: " + " | ".join(tail))
    epochs, final = [], None
    for line in result.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue  # a system may log other things; only JSON objects are results
        record = json.loads(line)
        if "epoch" in record:
            epochs.append(record)
        elif "median_epoch_seconds" in record:
            final = record
    if final is None:
        raise NotAvailable(f"{shlex.join(command)} printed no final line with median_epoch_seconds")
    return {"epochs": epochs, "final": final}


def system_command(name, dtype, epochs, graphjit_path, workload, start=None, extra=()):
    """The command line that runs system `name` of the workload; `start`: write_start's paths;
    `extra`: flags every system of the workload takes (--train-rows N)."""
    if name == GRAPHJIT:
        command = [graphjit_path(), "--json", "--dtype", dtype, "--epochs", str(epochs),
                   "--data", "fashion"]
    else:
        command = workload["systems"][name][1](dtype, epochs)
    return command + start_flags(name, start) + list(extra)


def race(systems, epochs, repeats, graphjit_path, workload=WORKLOADS["mlp"], extra=(), start=None):
    """Returns {(system, dtype): result or NotAvailable}; with repeats, each keeps its fastest run."""
    results = {}
    for _ in range(repeats):
        for dtype in DTYPES:
            for name in systems:
                previous = results.get((name, dtype))
                if isinstance(previous, NotAvailable):
                    continue
                try:
                    command = system_command(name, dtype, epochs, graphjit_path, workload, start, extra)
                    print(f"running {name} {dtype}", file=sys.stderr, flush=True)
                    outcome = run_one(command, timeout=300 + 120 * epochs)
                except (NotAvailable, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
                    print(f"  not available: {error}", file=sys.stderr)
                    results[(name, dtype)] = NotAvailable(str(error))
                    continue
                outcome["command"] = command
                seconds = outcome["final"]["median_epoch_seconds"]
                print(f"  median {seconds:.4f} s/epoch", file=sys.stderr)
                if previous is None or seconds < previous["final"]["median_epoch_seconds"]:
                    results[(name, dtype)] = outcome
    return results


def table_rows(systems, results):
    """One row per system and dtype, as strings, with graphjit's time over the peer's."""
    rows = []
    for name in systems:
        for dtype in DTYPES:
            result = results[(name, dtype)]
            if isinstance(result, NotAvailable):
                rows.append([name, dtype, "not available"] + [""] * (len(HEADER) - 3))
                continue
            final, last = result["final"], (result["epochs"] or [{}])[-1]
            seconds = final["median_epoch_seconds"]
            graphjit = results.get((GRAPHJIT, dtype))
            ratio = (f"{graphjit['final']['median_epoch_seconds'] / seconds:.2f}"
                     if graphjit is not None and not isinstance(graphjit, NotAvailable) else "n/a")

            def number(value, digits):
                return "—" if value is None else f"{value:.{digits}f}"
            by_epoch = " / ".join(number(e.get("valid_accuracy"), 4) for e in result["epochs"]) or "—"
            rss = final.get("peak_rss_mb")
            rows.append([name, dtype, f"{seconds:.4f}", by_epoch, number(final.get("test_accuracy"), 4),
                         number(rss, 0), number(None if rss is None else rss - data_mb(dtype), 0),
                         ratio, number(final.get("compile_seconds"), 2)])
    return rows


def data_mb(dtype):
    """MiB of the Fashion-MNIST images every system holds (70,000 x 784 in the run's dtype):
    the RSS target is this plus 300 MB."""
    return 70_000 * 784 * (8 if dtype == "float64" else 4) / 2**20


HEADER = ["system", "dtype", "median s/epoch", "valid acc by epoch", "test acc", "peak RSS MB",
          "RSS - data MB", "graphjit ÷ peer", "compile s"]


def text_table(rows):
    widths = [max(len(str(r[i])) for r in [HEADER] + rows) for i in range(len(HEADER))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [HEADER] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_description():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


RNN_DESCRIPTION = """# Training-speed race: an RNN over the rows of Fashion-MNIST

Generated by `benchmarks/race.py --workload rnn` on {date}.

    {command}

Workload: examples/rnn_mnist (28 steps of 28 pixels, h_t = tanh(x_t W_xh + h_{{t-1}} W_hh + b_h),
hidden 128, softmax of h_28 W_hy + b_y, mean negative log-likelihood, plain SGD with rate 0.05,
batch 100) on Fashion-MNIST split 50,000 / 10,000 / 10,000, {epochs} epochs, every system from
the same initial parameters (benchmarks/peers/build/rnn_init.npz). "median s/epoch" is the
median over epochs of the wall time of one epoch's 500 training steps.
"""

LENET_DESCRIPTION = """# Training-speed race: LeNet on Fashion-MNIST

Generated by `benchmarks/race.py --workload lenet` on {date}.

    {command}

Workload: the tutorial's LeNet (conv 20x5x5, 2x2 max pool, tanh; conv 50x5x5, pool,
tanh; tanh 800-500; softmax 500-10; mean negative log-likelihood, plain SGD with rate
0.1, batch 500) on Fashion-MNIST split 50,000 / 10,000 / 10,000, {epochs} epochs.
Every system starts from the same parameters (benchmarks/peers/build/lenet_init.npz,
the tutorial's init drawn once; the torch peers flip the filters into torch's
cross-correlation, which trains identically) and sees the same batches (epoch 1
in file order, then the permutations in lenet_order.npy), so their validation
accuracies differ only by arithmetic. "median s/epoch" is the median over epochs
of the wall time of one epoch's 100 training steps. "RSS - data MB" is the peak
resident set minus the 70,000 images in the run's dtype (the target: at most 300).
"""

HEADS = {"rnn": RNN_DESCRIPTION, "lenet": LENET_DESCRIPTION}
GEMM_BOUND_NOTE = """ gemm-bound is the floor:
only the five matrix products per batch, no elementwise work, no accuracy."""


def write_markdown(path, rows, results, systems, command, epochs, repeats, load_before,
                   load_after, workload="mlp"):
    def how_run(name):
        result = results[(name, DTYPES[0])]
        if isinstance(result, NotAvailable):
            return f"not available: {result}"
        return "`" + shlex.join(result["command"]).replace(REPO + os.sep, "") + "`"
    described = "\n".join(f"- **{name}**: {WORKLOADS[workload]['systems'][name][0]}; {how_run(name)}"
                          for name in systems)
    text = f"""# Training-speed race: the seed MLP on Fashion-MNIST

Generated by `benchmarks/race.py` on {datetime.date.today().isoformat()}.

    {command}

Workload: the Theano MLP of the seed (784-128-10, tanh, softmax, mean-squared error
on one-hot labels, plain SGD with rate 0.3, batch 500) on Fashion-MNIST split
50,000 / 10,000 / 10,000, {epochs} epochs, reshuffled after each epoch.
"median s/epoch" is the median over epochs of the wall time of one epoch's 100
training steps (forward, backward, update), without the reshuffle or validation.
Every system ran with 2 threads and `{' '.join(f'{k}={v}' for k, v in RACE_ENV.items())}`;
{"each system ran " + str(repeats) + " times and keeps its fastest run" if repeats > 1 else "one run each"}.
"graphjit ÷ peer" below 1 means graphjit is faster.{GEMM_BOUND_NOTE if workload == "mlp" else ""}

Machine: {machine_description()}; 1-minute load average {load_before:.2f} before,
{load_after:.2f} after (above ~0.5 something else was running and the times are noisy).

{markdown_table(rows)}

Systems, each with its float64 command (float32 runs the same with `--dtype float32`):
{described}

![epoch times and validation loss](benchmark.png)
"""
    if workload in HEADS:  # the workload's own paragraph in place of the MLP's
        head = HEADS[workload].format(date=datetime.date.today().isoformat(), command=command, epochs=epochs)
        text = head + text[text.index("Every system ran"):]
    with open(path, "w") as f:
        f.write(text)


def write_chart(path, systems, results, loss_name="MSE"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ran = [n for n in systems if any(not isinstance(results[(n, d)], NotAvailable) for d in DTYPES)]
    figure, (times, losses) = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.38
    for offset, dtype in enumerate(DTYPES):
        heights = [0 if isinstance(results[(n, dtype)], NotAvailable)
                   else results[(n, dtype)]["final"]["median_epoch_seconds"] for n in ran]
        positions = [i + (offset - 0.5) * width for i in range(len(ran))]
        bars = times.bar(positions, heights, width, label=dtype)
        times.bar_label(bars, fmt="%.3f", fontsize=7)
    times.set_xticks(range(len(ran)), ran, rotation=20)
    times.set_ylabel("median seconds per epoch (lower is better)")
    times.set_title("Training time per epoch (2 threads)")
    times.legend()

    colors = dict(zip(ran, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for name in ran:
        for dtype, style in zip(DTYPES, ("-", "--")):
            result = results[(name, dtype)]
            if isinstance(result, NotAvailable) or not result["epochs"] \
                    or "valid_loss" not in result["epochs"][0]:
                continue
            epochs = [e["epoch"] for e in result["epochs"]]
            losses.plot(epochs, [e["valid_loss"] for e in result["epochs"]], style, marker="o",
                        color=colors[name], label=f"{name} {dtype}")
    losses.xaxis.get_major_locator().set_params(integer=True)
    losses.set_xlabel("epoch")
    losses.set_ylabel(f"validation loss ({loss_name})")
    losses.set_title("Validation loss")
    losses.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="mlp")
    parser.add_argument("--systems", default=None,
                        help="comma-separated, from (mlp): " + ", ".join(SYSTEMS) + "; (lenet): "
                             + ", ".join(LENET_SYSTEMS) + "; (rnn): " + ", ".join(RNN_SYSTEMS)
                             + " (default: all of the workload's)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the whole race this many times; each system keeps its fastest "
                             "run (use on a busy machine)")
    parser.add_argument("--graphjit", metavar="PATH",
                        help="the mnist_mlp executable (default: the newest build*/examples/mnist_mlp)")
    parser.add_argument("--docs", default=os.path.join(REPO, "docs"),
                        help="where benchmark.md and benchmark.png go")
    parser.add_argument("--raw", metavar="FILE", help="also save every system's JSON lines here")
    parser.add_argument("--train-rows", type=int, default=0,
                        help="lenet only: train on the first N images (a smoke run of the plumbing; "
                             "N a multiple of the batch, 500)")
    args = parser.parse_args()
    workload = WORKLOADS[args.workload]
    known = workload["systems"]
    systems = [s.strip() for s in (args.systems or ",".join(known)).split(",") if s.strip()]
    unknown = [s for s in systems if s not in known]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {', '.join(known)}")
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    if args.train_rows and (args.workload != "lenet" or args.train_rows < 500 or args.train_rows > 50_000):
        parser.error("--train-rows applies to --workload lenet only, from 500 to 50000")
    if importlib.util.find_spec("matplotlib") is None:  # checked now, not after the race
        parser.error(f"{sys.executable} has no matplotlib: run with /usr/bin/python3 after "
                     "benchmarks/setup-peers.sh")

    load_before = os.getloadavg()[0]
    if load_before > 1.0:
        print(f"warning: load average {load_before:.1f} on {os.cpu_count()} cores: other work is "
              "running, times will be noisy (consider --repeats 3)", file=sys.stderr)
    start = write_start(args.workload, args.epochs, args.train_rows) if workload["draw_init"] else None
    extra = ["--train-rows", str(args.train_rows)] if args.train_rows else []
    results = race(systems, args.epochs, args.repeats,
                   lambda: find_graphjit(args.graphjit, workload["program"]), workload, extra, start)
    load_after = os.getloadavg()[0]
    rows = table_rows(systems, results)
    print(text_table(rows))
    for (name, dtype), result in results.items():
        if isinstance(result, NotAvailable):
            print(f"{name} {dtype}: not available: {result}")

    command = shlex.join(["/usr/bin/python3", "benchmarks/race.py"] + sys.argv[1:])
    os.makedirs(args.docs, exist_ok=True)
    stem = os.path.join(args.docs, workload["docs"])
    write_markdown(stem + ".md", rows, results, systems, command,
                   args.epochs, args.repeats, load_before, load_after, args.workload)
    write_chart(stem + ".png", systems, results, "MSE" if args.workload == "mlp" else "NLL")
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({f"{n} {d}": (str(r) if isinstance(r, NotAvailable) else r)
                       for (n, d), r in results.items()}, f, indent=1)
    print(f"wrote {stem}.md and {stem}.png")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Validation accuracy of graphjit and its peers over several starts: a verdict on
"accuracy at least the peer's from the same init" that one race run cannot give.

One race run trains every system from one init on one batch order. Two systems that
compute the same steps with different rounding drift apart (the RNN's float64
losses agree to 5e-10 for 100 steps and differ by 0.05 at step 200,
benchmarks/rnn_loss_trace), so one run's accuracy difference is one draw of that
drift. Here trial k gives every system the same init and batch orders, drawn from
the race's seeds plus 1000 k (trial 0 is the race's own start), and the report
gives each system's last-epoch validation accuracy per trial and the paired
differences of graphjit and each peer, and of each two peers (rounding alone):
their mean, its standard error, their median and how many are >= 0.

    /usr/bin/python3 benchmarks/accuracy_trials.py [--workload rnn] [--trials 8] [--epochs 3]
        [--systems graphjit,torch-loop,torch-rnn,libtorch-loop,libtorch-rnn] [--dtypes float64,float32] [--resume]

Writes docs/accuracy_<workload>.md, and keeps every run's JSON in
benchmarks/peers/build/accuracy_<workload>.json as it goes: with --resume, a rerun
skips the runs already there (same epochs; the same binaries are up to you).
Timings are not compared, but the machine should still be quiet: the peers' OpenBLAS
threads busy-wait, and with a build on the same cores one PyTorch run that takes 45 s on
a quiet machine ran past race.py's 660 s timeout.
"""
import argparse
import datetime
import json
import math
import os
import shlex
import statistics
import subprocess
import sys

import race


def last_accuracy(result):
    return result["epochs"][-1]["valid_accuracy"]


def run_trials(args, graphjit_path, saved_path):
    """{"trial dtype system": run_one's result}, loading and extending saved_path."""
    results = {}
    if args.resume and os.path.exists(saved_path):
        with open(saved_path) as f:
            saved = json.load(f)
        if saved.get("epochs") == args.epochs:
            results = saved["runs"]
    workload = race.WORKLOADS[args.workload]
    for trial in range(args.trials):
        start = race.write_start(args.workload, args.epochs, trial=trial)
        for dtype in args.dtypes:
            for name in args.systems:
                key = f"{trial} {dtype} {name}"
                if key in results:
                    continue
                command = race.system_command(name, dtype, args.epochs, graphjit_path, workload, start)
                print(f"trial {trial}: {name} {dtype}", file=sys.stderr, flush=True)
                results[key] = race.run_one(command, timeout=300 + 120 * args.epochs)
                print(f"  valid accuracy {last_accuracy(results[key]):.4f}", file=sys.stderr)
                with open(saved_path, "w") as f:
                    json.dump({"epochs": args.epochs, "runs": results}, f, indent=1)
    return results


def per_trial_table(args, results):
    header = ["trial"] + [f"{name} {dtype}" for dtype in args.dtypes for name in args.systems]
    rows = [[str(trial)] + [f"{last_accuracy(results[f'{trial} {dtype} {name}']):.4f}"
                            for dtype in args.dtypes for name in args.systems]
            for trial in range(args.trials)]
    return header, rows


def accuracies(args, results, dtype, name, epoch=-1):
    """System `name`'s validation accuracy after `epoch` (last: -1), one per trial."""
    return [results[f"{t} {dtype} {name}"]["epochs"][epoch]["valid_accuracy"] for t in range(args.trials)]


def verdict_table(args, results):
    """Per dtype, graphjit against each peer, then each peer against the later ones (how
    far two PyTorch programs of one model differ by rounding alone): the paired
    differences of the last epoch's accuracy."""
    header = ["dtype", "A - B", "A mean", "B mean", "mean difference", "standard error",
              "median difference", "trials A >= B"]
    peers = args.systems[1:]
    pairs = [(race.GRAPHJIT, p) for p in peers] + [(p, q) for i, p in enumerate(peers) for q in peers[i + 1:]]
    rows = []
    for dtype in args.dtypes:
        for first, second in pairs:
            a, b = accuracies(args, results, dtype, first), accuracies(args, results, dtype, second)
            differences = [x - y for x, y in zip(a, b)]
            error = (statistics.stdev(differences) / math.sqrt(len(differences))
                     if len(differences) > 1 else float("nan"))
            rows.append([dtype, f"{first} - {second}", f"{statistics.mean(a):.4f}", f"{statistics.mean(b):.4f}",
                         f"{statistics.mean(differences):+.4f}", f"{error:.4f}",
                         f"{statistics.median(differences):+.4f}",
                         f"{sum(d >= 0 for d in differences)} of {len(differences)}"])
    return header, rows


def by_epoch_table(args, results):
    """Each system's mean and lowest validation accuracy after every epoch: whether a
    system's runs collapse (end on a loss spike) more often than the others'."""
    header = ["system", "dtype"] + [f"epoch {e + 1} mean / min" for e in range(args.epochs)]
    rows = []
    for dtype in args.dtypes:
        for name in args.systems:
            cells = []
            for epoch in range(args.epochs):
                values = accuracies(args, results, dtype, name, epoch)
                cells.append(f"{statistics.mean(values):.4f} / {min(values):.4f}")
            rows.append([name, dtype] + cells)
    return header, rows


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", choices=["rnn", "lenet"], default="rnn")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--systems", default=None,
                        help="comma-separated, graphjit first (default: graphjit and the "
                             "workload's PyTorch and LibTorch peers)")
    parser.add_argument("--dtypes", default=",".join(race.DTYPES))
    parser.add_argument("--graphjit", metavar="PATH", help="the example's executable "
                        "(default: the newest build*/examples/<program>)")
    parser.add_argument("--docs", default=os.path.join(race.REPO, "docs"))
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs of the last invocation's JSON (see above)")
    args = parser.parse_args()
    workload = race.WORKLOADS[args.workload]
    default_systems = [n for n in workload["systems"] if n == race.GRAPHJIT or "torch" in n]
    args.systems = [s.strip() for s in (args.systems or ",".join(default_systems)).split(",")]
    args.dtypes = [d.strip() for d in args.dtypes.split(",")]
    if args.systems[0] != race.GRAPHJIT or len(args.systems) < 2:
        parser.error("--systems: graphjit first, then at least one peer")
    unknown = [s for s in args.systems if s not in workload["systems"]]
    if unknown or not set(args.dtypes) <= set(race.DTYPES):
        parser.error(f"unknown systems or dtypes {unknown or args.dtypes}; systems: "
                     f"{', '.join(workload['systems'])}; dtypes: {', '.join(race.DTYPES)}")
    if args.trials < 1 or args.epochs < 1:
        parser.error("--trials and --epochs must be at least 1")

    load = os.getloadavg()[0]
    if load > 1.0:
        print(f"warning: load average {load:.1f} on {os.cpu_count()} cores: the peers "
              "slow down many times over on busy cores and may time out", file=sys.stderr)
    saved_path = os.path.join(race.PEER_BUILD, f"accuracy_{args.workload}.json")
    try:
        results = run_trials(args, lambda: race.find_graphjit(args.graphjit, workload["program"]),
                             saved_path)
    except (race.NotAvailable, subprocess.TimeoutExpired) as error:
        sys.exit(f"accuracy_trials: {error} (the runs so far are in {saved_path})")
    trials, verdict = per_trial_table(args, results), verdict_table(args, results)
    by_epoch = by_epoch_table(args, results)
    command = shlex.join(["/usr/bin/python3", "benchmarks/accuracy_trials.py"] + sys.argv[1:])
    text = f"""# Validation accuracy over {args.trials} starts: {args.workload}

Generated by `benchmarks/accuracy_trials.py` on {datetime.date.today()}:

    {command}

Trial k trains every system from the same parameters and on the same batches (epoch 1 in
file order, then reshuffles), drawn from the race's seeds plus 1000 k; trial 0 is
`benchmarks/race.py --workload {args.workload}`'s start. Each cell is the validation
accuracy after epoch {args.epochs}. The verdict pairs graphjit with each peer trial by
trial, then each peer with the later ones (two programs of one model that differ by
rounding alone): "mean difference" is the mean of A - B over the trials, "standard error"
its standard deviation over the square root of the number of trials. One run that ends on
a loss spike can move the mean by more than the other trials' differences; the median and
the count of trials where A is at least B are not moved by one trial.

## Verdict

{markdown(*verdict)}

## Every epoch: mean / lowest accuracy over the trials

{markdown(*by_epoch)}

## Accuracy after epoch {args.epochs}, per trial

{markdown(*trials)}
"""
    path = os.path.join(args.docs, f"accuracy_{args.workload}.md")
    with open(path, "w") as f:
        f.write(text)
    print(markdown(*verdict))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

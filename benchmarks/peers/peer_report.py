"""The JSON lines every system in the race prints, so race.py can read them all alike.

Per epoch: {"epoch", "train_loss", "valid_loss", "valid_accuracy", "seconds"}.
At the end: {"test_accuracy", "median_epoch_seconds", "peak_rss_mb"}.
"seconds" is the wall time of the epoch's training steps only (forward,
backward, update over all batches): not the reshuffle, not the validation pass.
"""
import json
import resource
import statistics
import sys


def epoch_line(epoch, train_loss, valid_loss, valid_accuracy, seconds):
    print(json.dumps({"epoch": epoch, "train_loss": float(train_loss),
                      "valid_loss": float(valid_loss),
                      "valid_accuracy": float(valid_accuracy), "seconds": seconds}))
    sys.stdout.flush()


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def final_line(test_accuracy, epoch_seconds, **extra):
    fields = {"test_accuracy": float(test_accuracy),
              "median_epoch_seconds": statistics.median(epoch_seconds),
              "peak_rss_mb": peak_rss_mb()}
    fields.update(extra)
    print(json.dumps(fields))
    sys.stdout.flush()

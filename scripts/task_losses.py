"""Per-task training loss of a run: the mean of each `flow/<task>` column of metrics.csv over a
step range (flow loss for generation / editing / restoration, caption cross-entropy for caption
and question).

Usage:
    python scripts/task_losses.py runs/default/metrics.csv [--from 6000] [--to 7000]
"""

from __future__ import annotations

import argparse
import csv
import math


def task_losses(path: str, first: int, last: int) -> dict[str, float]:
    """Mean of every flow/<task> column over logged steps first < step <= last (NaNs skipped)."""
    sums: dict[str, list[float]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if not first < int(row["step"]) <= last:
                continue
            for key, value in row.items():
                if key.startswith("flow/") and value and not math.isnan(float(value)):
                    sums.setdefault(key.removeprefix("flow/"), []).append(float(value))
    return {task: sum(values) / len(values) for task, values in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metrics")
    parser.add_argument("--from", dest="first", type=int, default=6000)
    parser.add_argument("--to", dest="last", type=int, default=7000)
    args = parser.parse_args()
    losses = task_losses(args.metrics, args.first, args.last)
    print(f"mean per-task loss, steps {args.first}-{args.last}: "
          + ", ".join(f"{task} {loss:.3f}" for task, loss in losses.items()))


if __name__ == "__main__":
    main()

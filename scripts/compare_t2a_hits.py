"""Paired comparison of two models' text-to-audio class accuracy on the same prompts.

`scripts/measure_t2a.py --json OUT.json` keeps each prompt's hit (1 / 0, null where the tagger does
not know the class). Given the JSON files of model A and model B for one or more prompt sets (same
manifest, seeds and prompt order per pair), this prints per set and pooled: both accuracies, the
paired difference B - A with its standard error, and the exact two-sided sign test on the prompts
only one model gets right (McNemar's test).

    python scripts/compare_t2a_hits.py --a joint_600.json joint_600b.json \
        --b twin_600.json twin_600b.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import binomtest


def paired_hits(path_a: str, path_b: str) -> tuple[np.ndarray, np.ndarray]:
    """The hits of A and B on the prompts both were judged on."""
    with open(path_a) as handle:
        a = json.load(handle)
    with open(path_b) as handle:
        b = json.load(handle)
    if a.get("prompt_ids") != b.get("prompt_ids"):
        raise SystemExit(f"{path_a} and {path_b} are not the same prompts in the same order: "
                         "measure both models on the same manifest.")
    pairs = [(x, y) for x, y in zip(a["hits_generated"], b["hits_generated"], strict=True)
             if x is not None and y is not None]
    return np.array([x for x, _ in pairs], float), np.array([y for _, y in pairs], float)


def summary(name: str, a: np.ndarray, b: np.ndarray) -> str:
    difference = b - a
    error = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else np.nan
    only_b, only_a = int(((b == 1) & (a == 0)).sum()), int(((a == 1) & (b == 0)).sum())
    p = binomtest(only_b, only_a + only_b).pvalue if only_a + only_b else 1.0
    return (f"{name:<28} {len(a):5d} {a.mean():8.3f} {b.mean():8.3f} {difference.mean():+9.3f} "
            f"{error:7.3f} {only_b:7d} {only_a:7d} {p:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", nargs="+", required=True, help="model A's JSON files")
    parser.add_argument("--b", nargs="+", required=True, help="model B's, in the same order")
    args = parser.parse_args()
    if len(args.a) != len(args.b):
        raise SystemExit("give as many --b files as --a files, one per prompt set")
    print(f"{'prompt set (A file)':<28} {'n':>5} {'A':>8} {'B':>8} {'B - A':>9} {'SE':>7} "
          f"{'only B':>7} {'only A':>7} {'sign p':>8}")
    pooled_a, pooled_b = [], []
    for path_a, path_b in zip(args.a, args.b, strict=True):
        a, b = paired_hits(path_a, path_b)
        print(summary(path_a, a, b))
        pooled_a.append(a)
        pooled_b.append(b)
    if len(args.a) > 1:
        print(summary("pooled", np.concatenate(pooled_a), np.concatenate(pooled_b)))


if __name__ == "__main__":
    main()

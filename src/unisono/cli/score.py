"""`unisono score GENERATED_DIR REFERENCE_DIR`: score any system's outputs against references.

Thin over `unisono.metrics.folders.score_folders`: files pair by name, set metrics (FD, FAD) use
whole folders, transcripts and captions come from <name>.txt files. Prints one line per value
and writes the full report (with per-file values) as JSON with --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unisono.errors import UnisonoError

DEFAULT_METRICS = "fad,lsd,si_sdr"


def _metric_list() -> str:
    from unisono.metrics import METRIC_REGISTRY

    return "\n".join(f"  {name:20} {metric.description}"
                     for name, metric in METRIC_REGISTRY.items())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `score` command."""
    parser = subparsers.add_parser(
        "score", help="score a folder of generated audio against a folder of references",
        description=__doc__, epilog=f"metrics:\n{_metric_list()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("generated", type=Path, metavar="GENERATED_DIR")
    parser.add_argument("reference", type=Path, metavar="REFERENCE_DIR")
    parser.add_argument("--metrics", default=DEFAULT_METRICS,
                        help=f"comma-separated metric names (default {DEFAULT_METRICS})")
    parser.add_argument("--source", type=Path, default=None, metavar="SOURCE_DIR",
                        help="the transformations' inputs, same names (change_energy needs them)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--align", choices=("strict", "trim"), default="strict",
                        help="sample-by-sample metrics: require equal lengths (strict) or trim "
                             "both clips to the shorter (trim)")
    parser.add_argument("--embedder", default="aisfx",
                        help="FD/FAD embedder: 'aisfx' (bundled) or a folder with embedder.json")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    parser.set_defaults(func=run_score)


def run_score(args: argparse.Namespace) -> int:
    """Score the two folders, print the values, optionally write the JSON report."""
    import torch

    from unisono.metrics import METRIC_REGISTRY
    from unisono.metrics.embedding import LocalEmbedder
    from unisono.metrics.folders import score_folders

    names = [name.strip() for name in args.metrics.split(",") if name.strip()]
    unknown = [name for name in names if name not in METRIC_REGISTRY]
    if unknown:
        raise UnisonoError(f"unknown metric(s) {', '.join(unknown)}; choose from: "
                           f"{', '.join(METRIC_REGISTRY)}.")
    if args.threads < 1:
        raise UnisonoError(f"--threads must be at least 1; got {args.threads}.")
    torch.set_num_threads(args.threads)
    embedder = None if args.embedder == "aisfx" else LocalEmbedder(args.embedder)
    report = score_folders(args.generated, args.reference, names, align=args.align,
                           embedder=embedder, progress=args.progress,
                           source_dir=args.source)
    for key, value in report["metrics"].items():
        print(f"{key:24} {value:.4f}" if isinstance(value, float) else f"{key:24} {value}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0

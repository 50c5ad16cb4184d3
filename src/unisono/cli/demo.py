"""`unisono demo`: run every task on the built-in examples and write a web page (thin over
`unisono.demo.run_demo`)."""

from __future__ import annotations

import argparse


def _run_demo(args: argparse.Namespace) -> int:
    from unisono.demo import run_demo

    page = run_demo(args.model, args.out, seed=args.seed, steps=args.steps)
    print(page.resolve())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `demo`."""
    demo = subparsers.add_parser(
        "demo", help="run every task on built-in examples; write audio, spectrograms, index.html")
    demo.add_argument("--model", default=None, help="model folder (default: shipped model)")
    demo.add_argument("--out", default="unisono-demo", help="output folder (default unisono-demo)")
    demo.add_argument("--seed", type=int, default=0, help="seeds inputs and sampling")
    demo.add_argument("--steps", type=int, default=None, help="solver steps per example (25)")
    demo.set_defaults(func=_run_demo)

"""The `unisono` console entry point: thin subcommands over the Python API.

Each submodule of `unisono.cli` exposes `register(subparsers)`; `COMMAND_MODULES` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from unisono.errors import UnisonoError

COMMAND_MODULES = (
    "unisono.cli.world",
    "unisono.cli.data",
    "unisono.cli.codec",
    "unisono.cli.generate",
    "unisono.cli.score",
    "unisono.cli.tasks",
    "unisono.cli.refmodels",
    "unisono.cli.serve",
    "unisono.cli.evaluate",
    "unisono.cli.demo",
)


def add_peak_options(parser: argparse.ArgumentParser) -> None:
    """`--peak CEILING` / `--no-peak-limit` of the commands that write audio, into `args.peak`:
    the `peak` keyword of the API's task methods (None: the raw model output)."""
    from unisono.audio import DEFAULT_PEAK

    group = parser.add_mutually_exclusive_group()
    group.add_argument("--peak", type=float, default=DEFAULT_PEAK, metavar="CEILING",
                       help="scale an output louder than this peak down to it, by one gain "
                       f"(1.0 = full scale; default {DEFAULT_PEAK})")
    group.add_argument("--no-peak-limit", dest="peak", action="store_const", const=None,
                       help="write the raw model output (it can exceed full scale)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unisono", description=__doc__)
    from unisono import __version__

    parser.add_argument("--version", action="version", version=f"unisono {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UnisonoError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

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

"""`unisono data import|check`: build manifests from dataset folders and check them.

Exit codes of `unisono data check`: 0 when the manifest has no problem, 1 when it has at least
one (all are printed), 2 when the manifest cannot be opened at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from unisono.data.check import check_manifest
from unisono.data.importers import IMPORTERS, import_dataset
from unisono.data.manifest import write_manifest
from unisono.errors import UnisonoError

SHOWN_SKIPS = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `data` command with its `import` and `check` subcommands."""
    data = subparsers.add_parser("data", help="build and check clip manifests",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = data.add_subparsers(dest="data_command", required=True)

    formats = "\n".join(f"  {name:17} {importer.description}" for name, importer in IMPORTERS.items())
    importing = commands.add_parser(
        "import", help="turn a dataset folder into a manifest",
        description=f"Turn a dataset folder into a JSON Lines manifest.\n\nformats:\n{formats}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importing.add_argument("format", choices=list(IMPORTERS), help="dataset layout")
    importing.add_argument("root", type=Path, help="the dataset's top folder")
    importing.add_argument("-o", "--output", type=Path, required=True, help="manifest to write")
    importing.add_argument("--limit", type=int, default=None, help="keep the first N clips by id")
    importing.add_argument("--no-probe", dest="probe", action="store_false",
                           help="do not read duration / sample rate from the files")
    importing.add_argument("--csv", type=Path, default=None,
                           help="folder format: CSV with a file/path column and labels")
    importing.set_defaults(func=run_import)

    checking = commands.add_parser(
        "check", help="report every problem of a manifest (exit 1 if any)",
        description="Report every bad row and file of a manifest; exit 0 if all good, 1 if not.",
    )
    checking.add_argument("manifest", type=Path)
    checking.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                          help="decode every clip (default) or only check files exist")
    checking.add_argument("--json", type=Path, default=None, dest="json_path", metavar="REPORT",
                          help="also write the full report as JSON")
    checking.set_defaults(func=run_check)


def run_import(args: argparse.Namespace) -> int:
    """Import a dataset and write its manifest."""
    result = import_dataset(args.format, args.root, args.output, limit=args.limit,
                            probe=args.probe, csv_path=args.csv)
    if not result.entries:
        raise UnisonoError(
            f"no clips found for format {args.format!r} under {args.root}"
            + (f" ({len(result.skipped)} rows skipped, e.g. {result.skipped[0]})"
               if result.skipped else "")
            + "; check the folder and the format."
        )
    write_manifest(args.output, result.entries)
    for reason in result.skipped[:SHOWN_SKIPS]:
        print(f"skipped {reason}", file=sys.stderr)
    if len(result.skipped) > SHOWN_SKIPS:
        print(f"... and {len(result.skipped) - SHOWN_SKIPS} more skipped", file=sys.stderr)
    print(f"wrote {len(result.entries)} clips to {args.output}; skipped {len(result.skipped)}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Check a manifest; print every problem and a summary."""
    report = check_manifest(args.manifest, audio=args.audio, progress=sys.stderr.isatty())
    for problem in report.problems:
        print(problem)
    print(report.summary())
    if args.json_path is not None:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 0 if report.ok else 1

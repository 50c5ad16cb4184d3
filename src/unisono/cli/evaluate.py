"""`unisono eval TASK|all --model DIR|default --out DIR`: run a model on test examples, score them
beside ground-truth rows, write the reports.

Thin over `unisono.evaluation`. Per task: OUT/report.json, OUT/report.md, OUT/audio/*.wav and
log-mel PNGs in OUT/spectrograms/; `all` writes one folder per task the model has plus
OUT/summary.md and OUT/summary.json. Outputs already in OUT are reused, so a stopped run resumes.
Without --manifest a seeded world test split is rendered into OUT/world_test first.

Examples:
  unisono eval t2a --model runs/tiny/final --out eval/t2a --n 50
  unisono eval all --model default --manifest data/world_test/manifest.jsonl --out eval/all
  unisono eval se --model default --out eval/se --steps 8,25     # one model row per step count
  unisono eval edit_remove --model DIR --out eval/rm --cfg 1      # override the recipe's guidance
"""

from __future__ import annotations

import argparse
from pathlib import Path

from unisono.errors import UnisonoError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `eval` command."""
    from unisono.evaluation.runner import DEFAULT_N, MAX_SECONDS

    parser = subparsers.add_parser(
        "eval", help="evaluate a model on a task's test examples (or on every task)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task", help="a task name (`unisono tasks` lists them) or 'all'")
    parser.add_argument("--model", default="default",
                        help="model folder, or 'default' for the shipped model")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="test manifest (default: render a seeded world test split into OUT)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--n", type=int, default=DEFAULT_N,
                        help=f"test examples per task (default {DEFAULT_N})")
    parser.add_argument("--steps", default=None,
                        help="solver steps, or several separated by commas (one model row each); "
                             "default: each task's recipe")
    parser.add_argument("--cfg", type=float, default=None,
                        help="guidance scale for every audio task (1 = none); default: each "
                             "task's recipe (`unisono tasks --model DIR` shows them)")
    parser.add_argument("--seed", type=int, default=0, help="example and generation seed")
    parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS,
                        help=f"longest test clip in seconds (default {MAX_SECONDS:g})")
    parser.add_argument("--tagger", type=Path, default=None,
                        help="reference tagger folder (default: the shipped one)")
    parser.add_argument("--clap", type=Path, default=None,
                        help="contrastive embedder folder (default: the shipped one)")
    parser.add_argument("--embedder", default="aisfx",
                        help="FD/FAD embedder: 'aisfx' (bundled) or a folder with embedder.json")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    parser.set_defaults(func=run_eval)


def parse_steps(text: str | None) -> list[int] | None:
    """"25" -> [25], "8,25" -> [8, 25], None -> None; anything else is a UnisonoError."""
    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise UnisonoError(f"--steps takes whole numbers separated by commas (e.g. 8,25); got "
                           f"{text!r}.") from error
    if not values or min(values) < 1:
        raise UnisonoError(f"--steps must be positive; got {text!r}.")
    return values


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate and print where the reports are."""
    import torch

    from unisono.evaluation import ReferenceModels, evaluate_all, evaluate_task
    from unisono.tasks import TASKS

    if args.task != "all" and args.task not in TASKS:
        raise UnisonoError(f"unknown task {args.task!r}; give 'all' or one of: "
                           f"{', '.join(TASKS)}.")
    if args.manifest is not None and not args.manifest.is_file():
        raise UnisonoError(f"manifest {args.manifest} not found: give a JSONL test manifest "
                           "(`unisono world render --split test --out DIR` writes one) or leave "
                           "--manifest out to render one into the output folder.")
    if args.n < 1:
        raise UnisonoError(f"--n must be at least 1; got {args.n}.")
    if args.threads < 1:
        raise UnisonoError(f"--threads must be at least 1; got {args.threads}.")
    steps = parse_steps(args.steps)
    torch.set_num_threads(args.threads)
    embedder = None
    if args.embedder != "aisfx":
        from unisono.metrics.embedding import LocalEmbedder

        embedder = LocalEmbedder(args.embedder)
    references = ReferenceModels.load(tagger_dir=args.tagger, clap_dir=args.clap,
                                      embedder=embedder)
    for name, reason in references.missing.items():
        print(f"note: {name} metrics will be unavailable: {reason}")
    options = dict(model=args.model, manifest=args.manifest, out=args.out, n=args.n, steps=steps,
                   seed=args.seed, cfg=args.cfg, references=references, max_seconds=args.max_seconds,
                   progress=args.progress)
    if args.task == "all":
        evaluate_all(**options)
        print(f"wrote {args.out / 'summary.md'}")
    else:
        evaluate_task(args.task, **options)
        print(f"wrote {args.out / 'report.md'}")
    return 0

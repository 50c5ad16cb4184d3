"""`unisono train CONFIG` and `unisono generate "PROMPT"`: thin over `unisono.train` and
`unisono.pipeline`."""

from __future__ import annotations

import argparse
from pathlib import Path

from unisono.cli import add_peak_options
from unisono.errors import UnisonoError
from unisono.flow.solvers import SOLVERS


def _run_train(args: argparse.Namespace) -> int:
    from unisono.config import load_config
    from unisono.train import TrainGeneratorConfig, train_generator

    config = load_config(TrainGeneratorConfig, args.config, args.overrides)
    if args.threads:
        config.run.threads = args.threads
    print(train_generator(config, resume=args.resume))
    return 0


def _read_prompts(path: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise UnisonoError(f"prompt file {file} not found; give a text file with one prompt per line.")
    prompts = [line.strip() for line in file.read_text().splitlines() if line.strip()]
    if not prompts:
        raise UnisonoError(f"{file} has no prompts (one per line).")
    return prompts


def _interval(text: str | None) -> tuple[float, float] | None:
    """"0.2,0.9" -> (0.2, 0.9); None -> None (the task's recipe)."""
    if text is None:
        return None
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError as err:
        raise UnisonoError(f"--cfg-interval takes two flow times LOW,HIGH (e.g. 0.2,0.9); got "
                           f"{text!r}.") from err
    return low, high


def _run_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from unisono.pipeline import Unisono

    if (args.prompt is None) == (args.prompts is None):
        raise UnisonoError('give one prompt ("PROMPT" -o OUT.wav) or --prompts FILE --out-dir DIR.')
    model = Unisono.from_pretrained(args.model)
    settings = dict(
        duration=args.duration, steps=args.steps, cfg=args.cfg, solver=args.solver,
        sway=args.sway, task=args.task, cfg_interval=_interval(args.cfg_interval), peak=args.peak,
    )
    if args.prompt is not None:
        if not args.output:
            raise UnisonoError("give -o OUT.wav for the generated audio.")
        result = model.generate(args.prompt, seed=args.seed, **settings)
        print(result.save(args.output))
        return 0
    if not args.out_dir:
        raise UnisonoError("give --out-dir DIR for a batch of prompts.")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prompts = _read_prompts(args.prompts)
    for index, prompt in enumerate(tqdm(prompts, desc="generate")):
        target = out_dir / f"{index:05d}.wav"
        if target.is_file():  # resumable: finished items are skipped
            continue
        result = model.generate(prompt, seed=args.seed + index, **settings)
        partial = target.with_suffix(".partial.wav")
        result.save(partial)
        partial.replace(target)
    (out_dir / "prompts.txt").write_text("\n".join(prompts) + "\n")
    print(out_dir)
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from unisono.pipeline import export_model_folder

    tasks = args.tasks.split(",") if args.tasks else None
    out = export_model_folder(args.source, args.output, half=not args.fp32, tasks=tasks,
                              recipes=args.recipes)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    print(f"wrote {out} ({size:.1f} MB)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` and `generate`."""
    train = subparsers.add_parser("train", help="train the generator from a YAML config")
    train.add_argument("config")
    train.add_argument(
        "--set", dest="overrides", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
        help="override config values, e.g. --set run.max_steps=1000 optim.lr=3e-4",
    )
    train.add_argument(
        "--resume", action=argparse.BooleanOptionalAction, default=True,
        help="continue from the newest checkpoint in run.output_dir (default)",
    )
    train.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    train.set_defaults(func=_run_train)

    export = subparsers.add_parser(
        "export", help="write an inference-only model folder (EMA weights, float16)")
    export.add_argument("source", help="a model folder (a run's final/) or a checkpoint folder")
    export.add_argument("output", help="the folder to write")
    export.add_argument("--fp32", action="store_true", help="keep float32 weights")
    export.add_argument("--tasks", default=None,
                        help="comma-separated tasks, for a bare checkpoint folder")
    export.add_argument("--recipe", dest="recipes", action="extend", nargs="+", default=[],
                        metavar="TASK.FIELD=VALUE",
                        help="the model's own sampling defaults, e.g. --recipe t2a.cfg=7 "
                             "t2a.steps=50 (fields: steps, cfg, solver, sway, cfg_interval=LOW,HIGH)")
    export.set_defaults(func=_run_export)

    generate = subparsers.add_parser("generate", help="text to audio (t2a, t2m)")
    generate.add_argument("prompt", nargs="?", help="what to generate")
    generate.add_argument("-o", "--output", help="output wav (single prompt)")
    generate.add_argument("--prompts", help="text file, one prompt per line (batch mode)")
    generate.add_argument("--out-dir", help="output folder for --prompts (finished files skipped)")
    generate.add_argument("--model", default=None, help="model folder (default: shipped model)")
    generate.add_argument("--duration", type=float, default=None, help="seconds (default: predicted)")
    generate.add_argument("--steps", type=int, default=None, help="solver steps (default: task's)")
    generate.add_argument("--cfg", type=float, default=None, help="guidance scale (1: none)")
    generate.add_argument("--cfg-interval", default=None, metavar="LOW,HIGH",
                          help="guide only at flow times LOW..HIGH (1 = noise; default: task's)")
    generate.add_argument("--solver", choices=sorted(SOLVERS), default=None)
    generate.add_argument("--sway", type=float, default=None, help="sway coefficient (0: uniform)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--task", default="t2a",
                          help="t2a, t2m, timed (events at stated times), t2as (speech with sounds)")
    add_peak_options(generate)
    generate.set_defaults(func=_run_generate)

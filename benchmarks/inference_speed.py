"""Sampling speed of a model folder: 10 s of audio, 25 Euler steps, codec decode included
(issue 8 target: >= 10x real time on 2 CPU cores).

Usage:
    python benchmarks/inference_speed.py [--model DIR] [--seconds 10] [--steps 25]
        [--threads 2] [--repeats 3] [--prompt TEXT] [--json OUT]

Method: one process at --threads threads; `Unisono.generate(prompt, duration=seconds,
steps=steps, solver="euler", cfg=c)` end to end (text encoding, sampling, codec decode), once
with the t2a recipe's guidance scale and once with cfg=1 (no guidance: one network call per
step instead of two). A warm-up call first, then --repeats timed calls; each stage is timed
inside the same calls by wrapping the text encoder's `encode` and the codec's `decode_latent`;
the backbone is the rest (the solver loop over the generator). The text encoder's prompt cache
is cleared before every call, so the text encoding is always paid (as for a new prompt). Medians are reported, as
multiples of real time (seconds of audio per second of compute); PASS needs >= 10x end to end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from unisono.pipeline import Unisono
from unisono.tasks import get_task

TARGET_SPEED = 10.0
PROMPT = "A dog barks three times while rain falls and a car passes by"


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    return wrapper


def time_generation(model: Unisono, *, prompt: str, seconds: float, steps: int, cfg: float,
                    repeats: int) -> dict[str, float]:
    """Median seconds of the whole call and of its text / backbone / decode stages."""
    text_spent: list[float] = []
    decode_spent: list[float] = []
    encode, decode = model.text_encoder.encode, model.codec.decode_latent
    model.text_encoder.encode = _timed(encode, text_spent)
    model.codec.decode_latent = _timed(decode, decode_spent)
    runs: list[dict[str, float]] = []
    try:
        for repeat in range(repeats + 1):  # the first call warms up
            text_spent.clear()
            decode_spent.clear()
            model.text_encoder.clear_cache()  # a new prompt is encoded on every user call
            start = time.perf_counter()
            model.generate(prompt, duration=seconds, steps=steps, solver="euler", cfg=cfg,
                           seed=repeat)
            total = time.perf_counter() - start
            if repeat:
                runs.append({"total": total, "text_encoder": sum(text_spent),
                             "decode": sum(decode_spent),
                             "backbone": total - sum(text_spent) - sum(decode_spent)})
    finally:
        del model.text_encoder.encode, model.codec.decode_latent  # back to the class methods
    return {stage: statistics.median(run[stage] for run in runs) for stage in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = Unisono.from_pretrained(args.model)
    params = sum(p.numel() for p in model.generator.parameters()) / 1e6
    recipe_cfg = get_task("t2a").recipe.cfg
    print(f"model {args.model or 'default'}: generator {params:.2f}M params; {args.seconds:g} s "
          f"of audio, {args.steps} Euler steps, {args.threads} threads, median of "
          f"{args.repeats} after a warm-up")
    report: dict[str, Any] = {"model": args.model or "default", "generator_params_m": params,
                              "seconds": args.seconds, "steps": args.steps,
                              "threads": args.threads, "runs": {}}
    passed = True
    for label, cfg in ((f"cfg={recipe_cfg:g} (t2a recipe)", recipe_cfg), ("cfg=1 (no guidance)", 1.0)):
        stages = time_generation(model, prompt=args.prompt, seconds=args.seconds,
                                 steps=args.steps, cfg=cfg, repeats=args.repeats)
        speed = args.seconds / stages["total"]
        verdict = "PASS" if speed >= TARGET_SPEED else "FAIL"
        passed &= speed >= TARGET_SPEED
        print(f"{label}: {stages['total']:.2f} s -> {speed:.1f}x real time "
              f"[{verdict} against {TARGET_SPEED:g}x]")
        for stage in ("text_encoder", "backbone", "decode"):
            print(f"    {stage:<13}{stages[stage]:7.3f} s  ({args.seconds / stages[stage]:8.1f}x)")
        report["runs"][f"cfg={cfg:g}"] = {**stages, "real_time_factor": speed, "pass": verdict}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print("PASS" if passed else "FAIL")


if __name__ == "__main__":
    main()

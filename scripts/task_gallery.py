"""Labelled log-mel figures of one evaluation example per task, from an `unisono eval all` folder.

Each figure stacks the example's target (the ground truth), its input (transformations only) and
the model's output on one colour scale and one time axis, titled with the task and the
instruction, and notes the model's and the input's figures from the task's report.

Usage:
    python scripts/task_gallery.py eval/all_tasks docs/images/tasks [--example 0] [--dpi 60]
"""

from __future__ import annotations

import argparse
import io
import json
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import soundfile as sf
from PIL import Image

from unisono.audio import log_mel

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

PANELS = ("target", "input", "model")
DYNAMIC_RANGE_DB = 80.0


def mel_db(path: Path) -> tuple[np.ndarray, float]:
    """The (mels, frames) log-mel power in dB of a wav file, and its duration in seconds."""
    audio, rate = sf.read(str(path), dtype="float32", always_2d=False)
    mel = log_mel(audio, rate).numpy()
    return 10.0 * mel, audio.shape[0] / rate  # log_mel is log10 of power


def figures_line(report: dict) -> str:
    """'metric: model m (input i)' for the report's first three numeric columns."""
    rows = report["rows"]
    parts = []
    for column in report["columns"][:3]:
        model = rows.get("model", {}).get(column)
        if not isinstance(model, (int, float)):
            continue
        text = f"{column} {model:.3g}"
        baseline = rows.get("input", {}).get(column)
        if isinstance(baseline, (int, float)):
            text += f" (input {baseline:.3g})"
        parts.append(text)
    return "; ".join(parts)


def gallery(folder: Path, out: Path, *, example: int, dpi: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for report_path in sorted(folder.glob("*/report.json")):
        report = json.loads(report_path.read_text())
        rows = [e for e in report.get("per_example", []) if e["index"] == example]
        if not rows:
            continue
        files = rows[0]["files"]
        panels = [(name, mel_db(report_path.parent / files[name])) for name in PANELS
                  if name in files and (report_path.parent / files[name]).is_file()]
        if not any(name == "model" for name, _ in panels):
            continue  # understanding tasks answer in text
        top = max(float(mel.max()) for _, (mel, _) in panels)
        longest = max(seconds for _, (_, seconds) in panels)
        figure, axes = plt.subplots(len(panels), 1, figsize=(7.0, 1.35 * len(panels) + 0.8),
                                    sharex=True, squeeze=False)
        for axis, (name, (mel, seconds)) in zip(axes[:, 0], panels, strict=True):
            axis.imshow(mel, origin="lower", aspect="auto", cmap="magma",
                        vmin=top - DYNAMIC_RANGE_DB, vmax=top, extent=(0, seconds, 0, mel.shape[0]))
            axis.set_xlim(0, longest)
            axis.set_ylabel(name, fontsize=9)
            axis.set_yticks([])
        axes[-1, 0].set_xlabel("seconds", fontsize=9)
        title = f"{report['task']}: " + textwrap.shorten(rows[0]["instruction"], 90)
        figure.suptitle(title + "\n" + figures_line(report), fontsize=9)
        figure.tight_layout()
        path = out / f"{report['task']}.png"
        buffer = io.BytesIO()
        figure.savefig(buffer, dpi=dpi)
        plt.close(figure)
        # 64 colours keep a figure near 30 kB (docs images are committed to the repository).
        Image.open(buffer).convert("RGB").quantize(64).save(path, optimize=True)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_folder", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--example", type=int, default=0)
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args()
    for path in gallery(args.eval_folder, args.out, example=args.example, dpi=args.dpi):
        print(path)


if __name__ == "__main__":
    main()

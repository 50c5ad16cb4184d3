"""`run_demo`: every task a model knows, on the built-in examples, to a folder with a web page.

For each example: render its inputs (`examples.py`), time the model call, write the WAVs and
log-mel PNGs, measure a few figures with `unisono.metrics` (output length and level; PESQ of input
and output against the clean speech for enhancement; LSD for upsampling; the removed event's window
level for removal), then write `index.html` (`page.py`).

Shapes: S samples.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from unisono.audio import rms_db, save_audio
from unisono.demo.examples import Example, build_examples
from unisono.demo.page import Shown, ShownAudio, save_spectrogram, write_page
from unisono.errors import UnisonoError

DEFAULT_STEPS = 25


def _show_audio(folder: Path, stem: str, label: str, audio: np.ndarray, sample_rate: int) -> ShownAudio:
    save_audio(folder / f"{stem}.wav", audio, sample_rate)
    save_spectrogram(folder / f"{stem}.png", audio, sample_rate, title=label)
    return ShownAudio(label, f"{stem}.wav", f"{stem}.png")


def _paired(metric: Any, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> str:
    """One paired metric value as text ("unavailable: ..." when its package is missing)."""
    size = min(len(estimate), len(reference))
    metric.update(estimate=estimate[:size], reference=reference[:size], sample_rate=sample_rate)
    value = next(iter(metric.compute().values()))
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _lsd_change(reference: np.ndarray, given: np.ndarray, output: np.ndarray,
                sample_rate: int) -> tuple[float, float]:
    """Log-spectral distance to `reference` of the input given and of the output, over the
    shorter length."""
    from unisono.metrics import log_spectral_distance

    size = min(len(output), len(reference))
    return (log_spectral_distance(reference[:size], given[:size], sample_rate),
            log_spectral_distance(reference[:size], output[:size], sample_rate))


def measure(example: Example, output: np.ndarray, sample_rate: int) -> dict[str, str]:
    """The figures shown under an audio output: length, level and the task's quality measure.

    Args:
        example: the example (its inputs, reference and window).
        output: the model's audio (S,) at `sample_rate`.
        sample_rate: the model's rate.
    """
    from unisono.metrics import Pesq

    figures = {"output duration": f"{len(output) / sample_rate:.2f} s",
               "output RMS": f"{rms_db(output):.1f} dBFS"}
    reference = example.reference
    if example.task == "se" and reference is not None:
        noisy = example.inputs["noisy input"]
        figures["PESQ input → output"] = (f"{_paired(Pesq(), noisy, reference, sample_rate)} → "
                                          f"{_paired(Pesq(), output, reference, sample_rate)}")
    if example.task == "sr" and reference is not None:
        before, after = _lsd_change(reference, example.inputs["band-limited input"], output,
                                    sample_rate)
        figures["LSD input → output"] = f"{before:.2f} → {after:.2f} (lower is better)"
    if example.task == "edit_restyle" and reference is not None:
        original = next(iter(example.inputs.values()))
        before, after = _lsd_change(reference, original, output, sample_rate)
        figures["LSD to the phrase on the new instrument"] = (
            f"input {before:.2f} → output {after:.2f} (lower is better)")
    if example.window is not None and reference is not None:
        start, end = (int(t * sample_rate) for t in example.window)
        levels = [rms_db(a[start:end]) for a in (example.inputs["input"], output, reference)]
        figures["event window RMS"] = (f"input {levels[0]:.1f} dB, output {levels[1]:.1f} dB "
                                       f"(without the event {levels[2]:.1f} dB)")
    return figures


def _run_one(model: Any, example: Example, folder: Path, *, seed: int, steps: int) -> Shown:
    rate = model.sample_rate
    inputs = [_show_audio(folder, f"{example.name}_in{i}", label, audio, rate)
              for i, (label, audio) in enumerate(example.inputs.items())]
    started = time.perf_counter()
    result = example.run(model, seed, steps)
    seconds = time.perf_counter() - started
    shown = Shown(example.title, example.task, example.instruction, seconds, inputs=inputs)
    if isinstance(result, str):
        shown.text = result
    else:
        audio = np.asarray(result.audio, dtype=np.float32)
        shown.outputs.append(_show_audio(folder, f"{example.name}_out", "output", audio, rate))
        shown.figures.update(measure(example, audio, rate))
    return shown


def run_demo(
    model_dir: str | Path | None = None,
    out_dir: str | Path = "unisono-demo",
    *,
    seed: int = 0,
    steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Run every task the model knows on the built-in examples; write the folder and its page.

    Args:
        model_dir: a model folder (None: the default model shipped with the package).
        out_dir: the folder to write (created; files in it are overwritten).
        seed: seeds the rendered inputs and the sampling.
        steps: solver steps per example (default 25).
        progress: show a tqdm bar on stderr.

    Returns:
        The path of `index.html`.
    """
    from tqdm import tqdm

    from unisono.pipeline import Unisono

    steps = DEFAULT_STEPS if steps is None else steps
    if steps < 1:
        raise UnisonoError(f"--steps must be at least 1; got {steps}.")
    started = time.perf_counter()
    model = Unisono.from_pretrained(model_dir)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    examples = build_examples(model.tasks, sample_rate=model.sample_rate, seed=seed)
    if not examples:
        raise UnisonoError(f"the model knows none of the demo's tasks ({', '.join(model.tasks)}); "
                           "use a model trained for t2a, editing, speech or captioning.")
    shown = []
    bar = tqdm(examples, desc="demo", unit="example", disable=not progress)
    for example in bar:
        bar.set_postfix_str(example.name)
        shown.append(_run_one(model, example, folder, seed=seed, steps=steps))
    name = str(model_dir) if model_dir is not None else "default model"
    return write_page(folder / "index.html", shown, model=name,
                      total_seconds=time.perf_counter() - started)

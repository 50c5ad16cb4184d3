"""The demo's outputs on disk: log-mel spectrogram PNGs and the `index.html` page.

Every link on the page is relative, so the folder can be moved or served as it is.

Shapes: S samples, M mel bands, T frames.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unisono.audio import log_mel


@dataclass
class ShownAudio:
    """One player + spectrogram on the page: a label and file names relative to the page."""

    label: str
    wav: str
    png: str


@dataclass
class Shown:
    """One finished example as the page shows it."""

    title: str
    task: str
    instruction: str
    seconds: float
    inputs: list[ShownAudio] = field(default_factory=list)
    outputs: list[ShownAudio] = field(default_factory=list)
    text: str | None = None
    figures: dict[str, str] = field(default_factory=dict)


def save_spectrogram(path: Path, audio: np.ndarray, sample_rate: int, *, title: str) -> Path:
    """Write a log-mel spectrogram (80 bands) of `audio` (S,) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    mel = log_mel(audio, sample_rate).numpy()  # (M, T)
    seconds = len(audio) / sample_rate
    figure, axes = plt.subplots(figsize=(6, 2.2), dpi=100)
    axes.imshow(mel, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, mel.shape[0]),
                vmin=max(float(mel.min()), float(mel.max()) - 8.0))
    axes.set_xlabel("seconds")
    axes.set_ylabel("mel band")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _audio_block(item: ShownAudio) -> str:
    return (
        f'<figure><figcaption>{html.escape(item.label)}</figcaption>'
        f'<audio controls preload="none" src="{html.escape(item.wav)}"></audio><br>'
        f'<img src="{html.escape(item.png)}" alt="spectrogram of {html.escape(item.label)}">'
        "</figure>"
    )


def _section(shown: Shown) -> str:
    parts = [f"<section><h2>{html.escape(shown.title)}</h2>",
             f"<p class=task>task <code>{html.escape(shown.task)}</code></p>",
             f"<p><b>Instruction:</b> {html.escape(shown.instruction)}</p>"]
    if shown.inputs:
        parts.append("<div class=row><h3>Input</h3>" +
                     "".join(_audio_block(a) for a in shown.inputs) + "</div>")
    if shown.outputs:
        parts.append("<div class=row><h3>Output</h3>" +
                     "".join(_audio_block(a) for a in shown.outputs) + "</div>")
    if shown.text is not None:
        parts.append(f'<p><b>Answer:</b> <q class=answer>{html.escape(shown.text)}</q></p>')
    figures = {"time": f"{shown.seconds:.2f} s", **shown.figures}
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                   for k, v in figures.items())
    parts.append(f"<table>{rows}</table></section>")
    return "\n".join(parts)


STYLE = """body{font-family:sans-serif;max-width:980px;margin:auto;padding:1em}
section{border-top:1px solid #ccc;padding:.5em 0}figure{display:inline-block;margin:.3em}
img{width:420px}table{border-collapse:collapse}th,td{padding:2px 8px;text-align:left}
th{color:#555;font-weight:normal}.task{color:#777}"""


def write_page(path: Path, shown: list[Shown], *, model: str, total_seconds: float) -> Path:
    """Write `index.html` listing every example (instruction, players, spectrograms, figures)."""
    body = "\n".join(_section(s) for s in shown)
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>Unisono demo</title>"
        f"<style>{STYLE}</style></head><body><h1>Unisono demo</h1>"
        f"<p>Model: <code>{html.escape(model)}</code>. {len(shown)} examples in "
        f"{total_seconds:.1f} s. Inputs are rendered by the synthetic world with fixed seeds.</p>"
        f"{body}</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path

"""Writing evaluation results: report.md tables, the summary over tasks, log-mel PNGs.

PNGs are written with zlib alone (no plotting library): panels of log-mel spectrograms (80 mel
bands at 16 kHz, low frequencies at the bottom) stacked top to bottom with a white rule between
them, in a perceptual dark-to-bright colour ramp.

Shapes: S samples, M mel bands, T frames, H x W image pixels.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unisono.audio import log_mel, resample
from unisono.metrics.base import MetricValue

# Dark blue -> purple -> orange -> pale yellow (close to matplotlib's "magma").
_RAMP = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66],
                  [245, 125, 21], [250, 193, 39], [252, 253, 191]], dtype=np.float64)
PNG_RATE = 16000
PNG_DYNAMIC_RANGE = 8.0  # log10 units shown below the loudest bin (80 dB)
RULE_PIXELS = 3


def format_value(value: MetricValue) -> str:
    """A cell as Markdown shows it: 4 significant digits, or the reason."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "/").replace("\n", " ")


def markdown_report(report: dict[str, Any]) -> str:
    """One task's report: a header, a table (a row per system, a column per metric), notes."""
    columns = report["columns"]
    lines = [f"# {report['task']}: {report['description']}", "",
             f"Model `{report['model']}`, manifest `{report['manifest']}`, "
             f"{report['examples']} examples, seed {report['seed']}"
             + (f", guidance {report['cfg']:g}" if report.get("cfg") is not None else "")
             + ".", ""]
    if report.get("error"):
        lines += [f"**No examples:** {report['error']}", ""]
    lines += ["| row | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for row, values in report["rows"].items():
        lines.append(f"| {row} | " + " | ".join(format_value(values[c]) for c in columns) + " |")
    lines += ["", "Rows:", ""]
    lines += [f"- **{row}**: {note}" for row, note in report["row_notes"].items()]
    if report.get("spectrograms"):
        lines += ["", "Log-mel spectrograms (top to bottom: " + ", ".join(report["panels"])
                  + "): " + ", ".join(f"`{p}`" for p in report["spectrograms"])]
    return "\n".join(lines) + "\n"


def summary_table(reports: dict[str, dict[str, Any]]) -> str:
    """One table over tasks: a line per (task, metric), a column per row kind. Each distinct
    "unavailable" reason is a numbered note under the table, so the cells stay short."""
    rows = list(dict.fromkeys(row for report in reports.values() for row in report["rows"]))
    header = ["task", "metric", *rows]
    lines = ["# Unisono evaluation summary", "",
             "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    notes: dict[str, int] = {}

    def cell(value: MetricValue) -> str:
        if isinstance(value, float):
            return format_value(value)
        reason = format_value(value)
        number = notes.setdefault(reason, len(notes) + 1)
        return f"n/a [{number}]"

    for task, report in reports.items():
        for column in report["columns"]:
            cells = [cell(report["rows"][row][column]) if row in report["rows"] else ""
                     for row in rows]
            lines.append(f"| {task} | {column} | " + " | ".join(cells) + " |")
    if notes:
        lines += [""] + [f"[{number}] {reason}  " for reason, number in notes.items()]
    return "\n".join(lines) + "\n"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def write_text(path: Path, text: str) -> None:
    """Write text atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _colour(values: np.ndarray) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) uint8 through the colour ramp."""
    position = np.clip(values, 0.0, 1.0) * (len(_RAMP) - 1)
    low = np.floor(position).astype(int).clip(0, len(_RAMP) - 2)
    fraction = (position - low)[..., None]
    return np.round(_RAMP[low] * (1 - fraction) + _RAMP[low + 1] * fraction).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 image encoded as PNG (8-bit RGB, no filtering)."""
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def spectrogram_png(path: Path, clips: Sequence[np.ndarray], sample_rate: int) -> Path:
    """Stack the log-mel spectrograms of `clips` (top to bottom) into one PNG.

    Every panel shares one colour scale (the loudest bin of all clips at the top of the ramp,
    80 dB below it at the bottom) and one width (the longest clip; shorter ones padded dark).
    """
    mels = [log_mel(resample(np.asarray(c, np.float32), sample_rate, PNG_RATE), PNG_RATE).numpy()
            for c in clips]
    top = max(float(m.max()) for m in mels)
    width = max(m.shape[1] for m in mels)
    panels = []
    for mel in mels:
        scaled = (mel - (top - PNG_DYNAMIC_RANGE)) / PNG_DYNAMIC_RANGE
        scaled = np.pad(scaled, ((0, 0), (0, width - mel.shape[1])), constant_values=0.0)
        panels.append(_colour(scaled[::-1]))  # low frequencies at the bottom
    rule = np.full((RULE_PIXELS, width, 3), 255, dtype=np.uint8)
    image = np.concatenate([part for panel in panels for part in (panel, rule)][:-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image))
    return path

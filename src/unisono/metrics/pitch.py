"""Pitch metrics with swift-f0: F0 RMSE in cents and semitone accuracy on voiced frames.

Shapes: S samples; T pitch frames (swift-f0: 16 kHz, one frame per 256 samples = 16 ms).

Both clips of a pair (equal length) are tracked by swift-f0; a frame is voiced when its
confidence is at least 0.5 (swift-f0's calibration). Over all pairs, frames pooled:

- f0_rmse_cents: sqrt(mean of (1200 log2(f_est / f_ref))^2) over frames voiced in both clips.
- semitone_accuracy: over frames voiced in the reference, the fraction where the estimate is
  voiced and within 50 cents (half a semitone) of the reference: mir_eval's raw pitch accuracy,
  with an unvoiced estimate counted wrong.

A metric with no frame to average over is reported "unavailable: ..." rather than a number.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import numpy as np

from unisono.errors import UnisonoError
from unisono.metrics.base import (
    Metric,
    MetricValue,
    check_pair,
    check_sample_rate,
    missing_package,
    unavailable,
)

VOICED_CONFIDENCE = 0.5
SEMITONE_TOLERANCE_CENTS = 50.0


@functools.cache
def _detector():  # noqa: ANN202 (swift_f0 imported lazily)
    from swift_f0 import SwiftF0

    return SwiftF0(threads=1, spin=False)


def track_pitch(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """swift-f0 pitch (T,) in Hz and voicing (T,) bool of a clip (S,) at ``sample_rate``."""
    result = _detector().detect(np.asarray(audio, dtype=np.float32), sample_rate)
    return result.pitch_hz, result.confidence >= VOICED_CONFIDENCE


def cents(estimate_hz: np.ndarray, reference_hz: np.ndarray) -> np.ndarray:
    """Pitch difference 1200 log2(estimate / reference) in cents, element-wise."""
    ratio = np.asarray(estimate_hz, np.float64) / np.asarray(reference_hz, np.float64)
    return 1200.0 * np.log2(ratio)


class F0Metrics(Metric):
    """F0 RMSE (cents) on jointly voiced frames and semitone accuracy on reference-voiced frames."""

    name: ClassVar[str] = "f0"
    inputs: ClassVar[str] = "paired"
    aligned: ClassVar[bool] = True
    description: ClassVar[str] = "F0 RMSE in cents (lower) and semitone accuracy (higher), swift-f0"

    def _missing(self) -> str | None:
        return missing_package("swift_f0", "pip install 'unisono[eval]'")

    def reset(self) -> None:
        self._errors: list[np.ndarray] = []  # per pair: cents on jointly voiced frames
        self._hits: list[np.ndarray] = []  # per pair: within-50-cents on reference-voiced frames

    def update(self, *, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> None:
        """Track and compare one generated clip and its reference, both (S,) at ``sample_rate``."""
        estimate, reference = check_pair(estimate, reference, aligned=True)
        sample_rate = check_sample_rate(sample_rate)
        if self.missing is not None:
            return
        est_hz, est_voiced = track_pitch(estimate, sample_rate)
        ref_hz, ref_voiced = track_pitch(reference, sample_rate)
        if est_hz.shape != ref_hz.shape:
            raise UnisonoError("pitch tracks of equal-length clips differ in length.")
        both = est_voiced & ref_voiced
        self._errors.append(cents(est_hz[both], ref_hz[both]))
        deviation = np.abs(cents(est_hz[ref_voiced], ref_hz[ref_voiced]))
        self._hits.append(est_voiced[ref_voiced] & (deviation <= SEMITONE_TOLERANCE_CENTS))

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {"f0_rmse_cents": unavailable(self.missing),
                    "semitone_accuracy": unavailable(self.missing)}
        self._require_items(len(self._errors))
        errors, hits = np.concatenate(self._errors), np.concatenate(self._hits)
        return {
            "f0_rmse_cents": float(np.sqrt(np.mean(errors**2))) if errors.size else unavailable(
                "no frame is voiced in both the estimates and the references"),
            "semitone_accuracy": float(np.mean(hits)) if hits.size else unavailable(
                "no frame of the references is voiced"),
        }

    def item_values(self) -> list[float] | None:
        return [float(np.sqrt(np.mean(e**2))) if e.size else float("nan") for e in self._errors]

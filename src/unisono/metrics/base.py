"""Metric objects: the `Metric` base (`update` / `compute` / `reset`) and the paired-audio wrappers.

A metric accumulates clips with `update(...)` and returns `compute() -> {key: value}`, where a value
is a float or the string "unavailable: <reason>" (a package is missing, a model needs a download,
...): a metric that cannot be computed says why and is never reported as a number.

Every metric declares its `inputs`, which tells a runner (`unisono.metrics.folders`) what to feed:

- "paired": `update(*, estimate, reference, sample_rate)`, one generated clip and its reference;
  `aligned` metrics (LSD, SI-SDR, PESQ, ...) need equal lengths, the others (speaker similarity,
  KL) do not.
- "sets": `update(*, estimate=None, reference=None, sample_rate)`, clips of two unpaired sets (FD).
- "generated": `update(*, estimate, sample_rate)`, reference-free (IS, DNSMOS, removal rate).
- "transcript": `update(*, estimate, sample_rate, transcript)` (WER / CER).
- "captions": `update(*, candidate, references)` (BLEU, METEOR, CIDEr-D, ...).
- "edited": `update(*, estimate, reference, source, sample_rate)`, a transformation's output, its
  reference and its input (change energy).

Shapes: S samples; audio is float numpy (S,) mono at `sample_rate`, resampled by each metric to the
rate it is defined at. The registry of metrics by name is `unisono.metrics.METRIC_REGISTRY`.
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from unisono.errors import UnisonoError
from unisono.metrics.audio import (
    CHANGE_DB,
    change_energy,
    log_mel_l1,
    log_spectral_distance,
    si_sdr,
)

UNAVAILABLE_PREFIX = "unavailable: "
MetricValue = float | str
INPUT_KINDS = ("paired", "sets", "generated", "transcript", "captions", "edited")


def unavailable(reason: str) -> str:
    """The value reported for a metric that cannot be computed: "unavailable: <reason>"."""
    return UNAVAILABLE_PREFIX + reason


def is_unavailable(value: MetricValue) -> bool:
    """True when ``value`` is an "unavailable: ..." string rather than a number."""
    return isinstance(value, str) and value.startswith(UNAVAILABLE_PREFIX)


def json_number(value: float) -> float | None:
    """A per-item value as JSON can hold it: None for NaN or infinity."""
    return float(value) if math.isfinite(value) else None


def missing_package(module: str, install: str) -> str | None:
    """None when ``module`` imports, else the reason to report (naming how to install it)."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        return f"the {module!r} package is not importable ({error}): {install}"
    return None


def check_sample_rate(sample_rate: int) -> int:
    """The rate as an int, or UnisonoError when it is not a positive whole number of Hz."""
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise UnisonoError(f"sample_rate must be a positive number of Hz; got {sample_rate!r}")
    return int(sample_rate)


def check_audio(audio: Any, *, name: str = "audio") -> np.ndarray:
    """``audio`` as float32 (S,), or UnisonoError when it is not mono, empty or not finite."""
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim != 1:
        raise UnisonoError(f"{name} must be mono with shape (samples,); got shape {array.shape}. "
                           "Downmix it first (unisono.audio.to_mono).")
    if array.size == 0:
        raise UnisonoError(f"{name} is empty: cannot compute a metric on 0 samples.")
    if not np.all(np.isfinite(array)):
        raise UnisonoError(f"{name} contains NaN or Inf samples: cannot compute a metric on it; "
                           "check the system that produced it.")
    return array


def check_pair(estimate: Any, reference: Any, *, aligned: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both clips checked; for ``aligned`` metrics their lengths must also be equal."""
    estimate = check_audio(estimate, name="estimate")
    reference = check_audio(reference, name="reference")
    if aligned and estimate.shape != reference.shape:
        raise UnisonoError(
            f"estimate and reference lengths differ ({estimate.shape[0]} vs "
            f"{reference.shape[0]} samples): this metric compares them sample by sample; trim or "
            "pad the estimate to the reference length (`unisono score --align trim` does it)."
        )
    return estimate, reference


class Metric(ABC):
    """A metric over clips: `update(...)` per clip, `compute()` once, `reset()` to start again.

    Subclasses set `name` (the registry key), `inputs` (one of INPUT_KINDS), `description` (one
    line for listings) and, when an optional package is needed, return the reason from
    `_missing()`; an unavailable metric still validates its inputs but reports the reason.
    """

    name: ClassVar[str]
    inputs: ClassVar[str]
    aligned: ClassVar[bool] = False  # paired metrics comparing sample by sample need equal lengths
    description: ClassVar[str] = ""

    def __init__(self) -> None:
        self.missing = self._missing()
        self.reset()

    def _missing(self) -> str | None:
        """The reason this metric cannot run here (a package is missing), or None."""
        return None

    @abstractmethod
    def update(self, **inputs: Any) -> None:
        """Add one clip (or pair of clips); the keyword arguments depend on `inputs`."""

    @abstractmethod
    def compute(self) -> dict[str, MetricValue]:
        """The metric over everything added since the last `reset()`."""

    @abstractmethod
    def reset(self) -> None:
        """Forget every clip added so far."""

    def end_item(self) -> None:
        """Close one report item: the updates since the last call belong to one example. Metrics
        whose updates are not one per example (some checks skip a clip, some make several)
        override this to report a value per item."""
        return None

    def item_values(self) -> list[float] | None:
        """Per-update values in update order (for per-file reports), or None if not per-clip."""
        return None

    def item_texts(self) -> list[str] | None:
        """What the metric read from each update's clip, in update order (a transcript), or
        None if it reads no text."""
        return None

    def _require_items(self, count: int) -> None:
        if count == 0:
            raise UnisonoError(f"metric {self.name!r} has no clips: call update() before "
                               "compute().")


class PairedAudioMetric(Metric):
    """Mean over pairs of a per-pair score `score(estimate, reference, sample_rate)`."""

    inputs: ClassVar[str] = "paired"
    aligned: ClassVar[bool] = True

    def reset(self) -> None:
        self.values: list[float] = []

    def update(self, *, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> None:
        """Score one generated clip against its reference, both (S,) at ``sample_rate``."""
        estimate, reference = check_pair(estimate, reference, aligned=self.aligned)
        sample_rate = check_sample_rate(sample_rate)
        if self.missing is None:
            self.values.append(float(self.score(estimate, reference, sample_rate)))

    @abstractmethod
    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        """The metric of one checked pair."""

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {self.name: unavailable(self.missing)}
        self._require_items(len(self.values))
        return {self.name: float(np.mean(self.values))}

    def item_values(self) -> list[float] | None:
        return list(self.values)


class LogMelL1(PairedAudioMetric):
    """Mean over pairs of `log_mel_l1` (80 HTK mels at 16 kHz); lower is better."""

    name = "log_mel_l1"
    description = "log10 mel power L1 distance at 16 kHz (lower is better)"

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        return log_mel_l1(reference, estimate, sample_rate)


class LogSpectralDistance(PairedAudioMetric):
    """Mean over pairs of the AudioSR log-spectral distance; 0 for identical signals."""

    name = "lsd"
    description = "log-spectral distance, AudioSR definition, at 16 kHz (lower is better)"

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        return log_spectral_distance(reference, estimate, sample_rate)


class ScaleInvariantSDR(PairedAudioMetric):
    """Mean over pairs of SI-SDR in dB (`si_sdr`), capped at +100 dB for identical signals."""

    name = "si_sdr"
    description = "scale-invariant SDR in dB, capped at +100 (higher is better)"

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        return si_sdr(reference, estimate, sample_rate)


class ChangeEnergy(Metric):
    """Did a transformation make its change and keep the rest? (`change_energy`, per key the mean
    over the pairs that have such cells).

    removed_db: the output's power over the input's where the target removed something (the
    target's own figure is the ideal, 0 the do-nothing output); added_db: the same where the target
    added something; kept_db: mean |dB| difference from the target where nothing should change;
    kept_level_db: the output's power over the target's there (signed: a removal that only turns
    the clip down shows it here as much as in removed_db).
    """

    name = "change_energy"
    inputs: ClassVar[str] = "edited"
    aligned: ClassVar[bool] = True
    description = ("transformations: dB change where the target removed / added energy, and dB "
                   "error and level where it kept it (needs the inputs)")
    KEYS = ("removed_db", "added_db", "kept_db", "kept_level_db")

    def reset(self) -> None:
        self.values: list[dict[str, float]] = []

    def update(self, *, estimate: np.ndarray, reference: np.ndarray, source: np.ndarray,
               sample_rate: int) -> None:
        """Score one output against its reference (target) and source (input), all (S,)."""
        estimate, reference = check_pair(estimate, reference, aligned=True)
        source, _ = check_pair(source, reference, aligned=True)
        sample_rate = check_sample_rate(sample_rate)
        self.values.append(change_energy(source, reference, estimate, sample_rate))

    def compute(self) -> dict[str, MetricValue]:
        self._require_items(len(self.values))
        result: dict[str, MetricValue] = {}
        for key in self.KEYS:
            finite = [v[key] for v in self.values if math.isfinite(v[key])]
            result[key] = float(np.mean(finite)) if finite else unavailable(
                f"no pair has {key.removesuffix('_db')} cells (source and target never differ "
                f"that way by {CHANGE_DB:g} dB)" if not key.startswith("kept") else
                "no pair has cells where source and target agree")
        return result

    def item_values(self) -> list[float] | None:
        return [v["removed_db"] for v in self.values]

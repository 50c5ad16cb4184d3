"""Oracle metrics: checks of generated audio against what the synthetic world knows exactly.

Each is a `unisono.metrics.Metric` (`update` per clip, `compute` once) whose `inputs` is "oracle":
besides the clip, `update` takes the fact to check (the event classes that must or must not be
heard, a gender, an instrument, a key, event onsets, a prompt, an answer). The runner
(`unisono.evaluation.scoring`) feeds them.

- `TagAccuracy`: the reference tagger's top label of one head (event class, gender, instrument)
  is the expected one. Labels the tagger does not know are skipped.
- `EventPresence`: fraction of (clip, class) checks where the tagger's event probability is at
  least 0.5 (`absent=True`: below 0.5): present / absent per class.
- `ClapScore`: cosine of the contrastive embedder's audio and prompt embeddings.
- `OnsetError`: mean distance (s) of each expected event onset to the nearest detected onset.
- `KeyAccuracy`, `PitchClassSimilarity`: estimated key against the manifest's (major / minor
  clips only) and cosine of the clip's chroma with its notes' pitch-class histogram.
- `MedianPitchError`: |semitones| between the median F0 of a clip and of its reference.
- `DurationError`: mean |predicted - true| duration in seconds.
- `ExactMatch`: answers equal after lower-casing and removing punctuation.

A metric whose reference model is missing is built with `missing="<reason>"` and reports
"unavailable: <reason>"; one with no clip it could check reports why instead of a number.

Shapes: S samples.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from unisono.data.manifest import Note
from unisono.errors import UnisonoError
from unisono.evaluation import signals
from unisono.metrics.base import Metric, MetricValue, check_audio, check_sample_rate, unavailable

PRESENCE_THRESHOLD = 0.5


class OracleMetric(Metric):
    """Mean of per-check values; checks that cannot be made are counted and skipped.

    Args:
        model: the reference model the metric consults (tagger, embedder), if any.
        missing: why the metric cannot run here (the model is not available), or None.
    """

    inputs: ClassVar[str] = "oracle"
    nothing_checked: ClassVar[str] = "no clip had anything this metric can check"

    def __init__(self, model: Any = None, *, missing: str | None = None) -> None:
        self.model = model
        self._missing_reason = missing
        super().__init__()

    def _missing(self) -> str | None:
        return self._missing_reason

    def reset(self) -> None:
        self.values: list[float] = []
        self.skipped = 0
        self._item_ends: list[int] = []

    def end_item(self) -> None:
        self._item_ends.append(len(self.values))

    def item_values(self) -> list[float] | None:
        """Per item closed by `end_item`, the mean of its checks (NaN when it had none), or None
        when no item was closed."""
        if not self._item_ends:
            return None
        starts = [0, *self._item_ends[:-1]]
        return [float(np.mean(self.values[a:b])) if b > a else math.nan
                for a, b in zip(starts, self._item_ends, strict=True)]

    def _clip(self, estimate: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
        return check_audio(estimate, name="estimate"), check_sample_rate(sample_rate)

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {self.name: unavailable(self.missing)}
        if not self.values:
            return {self.name: unavailable(f"{self.nothing_checked} ({self.skipped} skipped)")}
        return {self.name: float(np.mean(self.values))}


class Unavailable(OracleMetric):
    """A metric that cannot run here (built with `missing`): it takes any input and reports why."""

    name: ClassVar[str] = "unavailable"

    def update(self, **inputs: Any) -> None:
        """Ignore one clip's inputs."""


class TagAccuracy(OracleMetric):
    """Top-1 accuracy of one tagger head against the expected label of each clip.

    Args:
        model: the tagger (`predict(audio, sample_rate) -> TagPrediction`).
        head: "event", "instrument" or "gender".
        name: the report key, e.g. "class_accuracy".
        missing: why the tagger is unavailable.
    """

    nothing_checked: ClassVar[str] = "no expected label is one the tagger knows"

    def __init__(self, model: Any = None, *, head: str, name: str,
                 missing: str | None = None) -> None:
        self.head = head
        self.name = name  # type: ignore[misc]  (one class, several report keys)
        super().__init__(model, missing=missing)

    def update(self, *, estimate: np.ndarray, sample_rate: int, label: str | None,
               ignore: Sequence[str] = ()) -> None:
        """Check one clip; `ignore` lists labels left out of the ranking (e.g. its background)."""
        estimate, sample_rate = self._clip(estimate, sample_rate)
        if self.missing is not None:
            return
        prediction = self.model.predict(estimate, sample_rate)
        labels = list(prediction.labels[self.head])
        if label is None or label not in labels:
            self.skipped += 1
            return
        scores = np.array(prediction.probabilities[self.head][0], dtype=np.float64)
        for name in ignore:
            if name in labels and name != label:
                scores[labels.index(name)] = -np.inf
        self.values.append(float(labels[int(np.argmax(scores))] == label))


class EventPresence(OracleMetric):
    """Fraction of expected classes the tagger hears (p >= 0.5), or with `absent`, does not."""

    nothing_checked: ClassVar[str] = "none of the classes to check is a label of the tagger"

    def __init__(self, model: Any = None, *, absent: bool = False,
                 missing: str | None = None) -> None:
        self.absent = absent
        self.name = "event_absence" if absent else "event_presence"  # type: ignore[misc]
        super().__init__(model, missing=missing)

    def update(self, *, estimate: np.ndarray, sample_rate: int, classes: Sequence[str]) -> None:
        """Check every class of `classes` the tagger knows in one clip."""
        estimate, sample_rate = self._clip(estimate, sample_rate)
        if self.missing is not None or not classes:
            return
        prediction = self.model.predict(estimate, sample_rate)
        labels = prediction.labels["event"]
        for event_class in classes:
            if event_class not in labels:
                self.skipped += 1
                continue
            heard = float(prediction.score("event", event_class)[0]) >= PRESENCE_THRESHOLD
            self.values.append(float(heard != self.absent))


class ClapScore(OracleMetric):
    """Mean cosine of each clip's audio embedding and its prompt's text embedding (content and
    duration parts, `ContrastiveEmbedder.score`)."""

    name: ClassVar[str] = "clap_score"

    def update(self, *, estimate: np.ndarray, sample_rate: int, text: str) -> None:
        """Score one clip against the text it should match."""
        estimate, sample_rate = self._clip(estimate, sample_rate)
        if self.missing is None:
            self.values.append(float(self.model.score(estimate, text, sample_rate)[0]))


class OnsetError(OracleMetric):
    """Mean over expected events of the distance (s) to the nearest detected onset
    (`signals.activity_onsets`); an event in a silent clip costs the clip's duration."""

    name: ClassVar[str] = "onset_error_s"

    def update(self, *, estimate: np.ndarray, sample_rate: int, onsets: Sequence[float]) -> None:
        """Check one clip against the onsets (s) its events should have."""
        estimate, sample_rate = self._clip(estimate, sample_rate)
        if not onsets:
            self.skipped += 1
            return
        detected = signals.activity_onsets(estimate, sample_rate)
        self.values.extend(signals.onset_errors(detected, onsets,
                                                penalty=estimate.shape[0] / sample_rate))


class KeyAccuracy(OracleMetric):
    """Fraction of major / minor clips whose estimated key (tonic and mode) is the expected one;
    other modes and clips without a key are skipped."""

    name: ClassVar[str] = "key_accuracy"
    nothing_checked: ClassVar[str] = "no clip has a major or minor key to check"

    def update(self, *, estimate: np.ndarray, sample_rate: int, key: str | None,
               mode: str | None) -> None:
        """Check one clip against its manifest key ("Bb") and mode ("minor")."""
        estimate, sample_rate = self._clip(estimate, sample_rate)
        if not key or mode not in signals.KEY_MODES:
            self.skipped += 1
            return
        found = signals.estimate_key(estimate, sample_rate)
        self.values.append(float(found == (signals.pitch_class(key), mode)))


class PitchClassSimilarity(OracleMetric):
    """Mean cosine between a clip's chroma profile and its notes' pitch-class histogram."""

    name: ClassVar[str] = "pitch_class_similarity"
    nothing_checked: ClassVar[str] = "no clip has pitched notes to compare with"

    def update(self, *, estimate: np.ndarray, sample_rate: int, notes: Sequence[Note]) -> None:
        """Compare one clip with the notes it should play (skipped when there are none)."""
        estimate, sample_rate = self._clip(estimate, sample_rate)
        expected = signals.note_profile(notes)
        if not expected.any():
            self.skipped += 1
            return
        found = signals.chroma_profile(estimate, sample_rate)
        norm = float(np.linalg.norm(found) * np.linalg.norm(expected))
        self.values.append(float(found @ expected / norm) if norm > 0 else 0.0)


class MedianPitchError(OracleMetric):
    """Mean |12 log2(median F0 of the clip / median F0 of the reference)| in semitones over
    clips voiced in both (swift-f0, voiced at confidence >= 0.5)."""

    name: ClassVar[str] = "median_f0_error_semitones"
    nothing_checked: ClassVar[str] = "no clip pair is voiced in both clips"

    def update(self, *, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> None:
        """Compare the median pitch of one clip with its reference's."""
        from unisono.metrics.pitch import track_pitch

        estimate, sample_rate = self._clip(estimate, sample_rate)
        reference = check_audio(reference, name="reference")
        if self.missing is not None:
            return
        medians = []
        for clip in (estimate, reference):
            hertz, voiced = track_pitch(clip, sample_rate)
            medians.append(float(np.median(hertz[voiced])) if voiced.any() else None)
        if None in medians:
            self.skipped += 1
            return
        self.values.append(abs(12.0 * float(np.log2(medians[0] / medians[1]))))


class DurationError(OracleMetric):
    """Mean |predicted - true| clip duration in seconds (the duration predictor's error)."""

    name: ClassVar[str] = "duration_error_s"

    def update(self, *, predicted: float, actual: float) -> None:
        """Add one prediction and the true duration, in seconds."""
        if not (np.isfinite(predicted) and np.isfinite(actual)):
            raise UnisonoError(f"durations must be finite; got {predicted} and {actual}.")
        self.values.append(abs(float(predicted) - float(actual)))


def normalize_answer(text: str) -> str:
    """Lower case, punctuation removed, spaces collapsed ("Two." -> "two")."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class ExactMatch(OracleMetric):
    """Fraction of answers equal to the expected one after `normalize_answer`."""

    name: ClassVar[str] = "accuracy"

    def update(self, *, candidate: str, answer: str) -> None:
        """Add one answer and the expected one."""
        if not isinstance(candidate, str) or not isinstance(answer, str):
            raise UnisonoError("answers must be strings.")
        self.values.append(float(normalize_answer(candidate) == normalize_answer(answer)))

"""Oracle checks against signals with known answers: keys of synthesised chords, onsets of
placed bursts, pitch-class profiles, answers; and the eigenvalue form of the Frechet distance."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from eval_fixtures import FemaleTagger

from unisono.data.manifest import Note
from unisono.errors import UnisonoError
from unisono.evaluation.oracles import EventPresence, ExactMatch, OnsetError, TagAccuracy
from unisono.evaluation.plans import within_full_scale
from unisono.evaluation.signals import (
    activity_onsets,
    estimate_key,
    note_profile,
    onset_errors,
    pitch_class,
)
from unisono.metrics.embedding import frechet_distance, trace_sqrt_product

RATE = 16000


def _chords(progression: list[list[int]], seconds: float = 0.8) -> np.ndarray:
    """Each chord (MIDI pitches, three octaves of partials) for `seconds`, one after another."""
    t = np.arange(int(seconds * RATE)) / RATE
    parts = []
    for chord in progression:
        tone = sum(np.sin(2 * np.pi * 440.0 * 2 ** ((p - 69) / 12) * t) for p in chord)
        parts.append(tone * np.hanning(t.size))
    audio = np.concatenate(parts)
    return (0.3 * audio / np.max(np.abs(audio))).astype(np.float32)


def test_pitch_class_names() -> None:
    assert [pitch_class(n) for n in ("C", "C#", "Db", "Bb", "E#", "b")] == [0, 1, 1, 10, 5, 11]
    with pytest.raises(UnisonoError, match="not a note name"):
        pitch_class("H")


@pytest.mark.parametrize("progression, key", [
    ([[60, 64, 67], [65, 69, 72], [67, 71, 74], [60, 64, 67]], (0, "major")),   # C F G C
    ([[57, 60, 64], [62, 65, 69], [64, 68, 71], [57, 60, 64]], (9, "minor")),   # Am Dm E Am
    ([[62, 66, 69], [67, 71, 74], [69, 73, 76], [62, 66, 69]], (2, "major")),   # D G A D
])
def test_key_of_a_cadence(progression, key) -> None:
    assert estimate_key(_chords(progression), RATE) == key
    assert estimate_key(np.zeros(RATE, np.float32), RATE) is None


def test_onsets_of_bursts_on_silence() -> None:
    audio = np.zeros(3 * RATE, np.float32)
    t = np.arange(int(0.2 * RATE)) / RATE
    for start in (0.5, 1.5):
        audio[int(start * RATE):int(start * RATE) + t.size] = 0.5 * np.sin(2 * np.pi * 700 * t)
    assert activity_onsets(audio, RATE) == pytest.approx([0.5, 1.5])
    assert onset_errors([0.5, 1.5], [0.6, 1.5], penalty=3.0) == pytest.approx([0.1, 0.0])
    metric = OnsetError()
    metric.update(estimate=audio, sample_rate=RATE, onsets=[0.6, 1.5])
    metric.update(estimate=np.zeros(RATE, np.float32), sample_rate=RATE, onsets=[0.2])
    assert metric.compute()["onset_error_s"] == pytest.approx((0.1 + 0.0 + 1.0) / 3)


def test_note_profile_weights_pitch_classes_by_duration() -> None:
    profile = note_profile([Note(60, 0.0, 1.0), Note(79, 1.0, 1.5), Note(72, 2.0, 2.0)])
    expected = np.zeros(12)
    expected[0], expected[7] = 2 / 3, 1 / 3
    np.testing.assert_allclose(profile, expected)


def test_answers_and_tags() -> None:
    answers = ExactMatch()
    answers.update(candidate="Two.", answer="two")
    answers.update(candidate="female", answer="male")
    assert answers.compute() == {"accuracy": 0.5}
    clip = np.full(RATE, 0.1, np.float32)
    # "siren" outranks "dog bark" unless it is ignored (a background bed, say).
    accuracy = TagAccuracy(FemaleTagger(), head="event", name="class_accuracy")
    accuracy.update(estimate=clip, sample_rate=RATE, label="dog bark")
    accuracy.update(estimate=clip, sample_rate=RATE, label="dog bark", ignore=["siren"])
    accuracy.update(estimate=clip, sample_rate=RATE, label="unknown class")  # skipped
    assert accuracy.compute() == {"class_accuracy": 0.5}
    absence = EventPresence(FemaleTagger(), absent=True)
    absence.update(estimate=clip, sample_rate=RATE, classes=["siren", "dog bark", "owl"])
    assert absence.compute() == {"event_absence": 0.5}
    missing = TagAccuracy(head="gender", name="gender_accuracy", missing="no tagger here")
    missing.update(estimate=clip, sample_rate=RATE, label="female")
    assert missing.compute() == {"gender_accuracy": "unavailable: no tagger here"}
    nothing = TagAccuracy(FemaleTagger(), head="gender", name="gender_accuracy")
    nothing.update(estimate=clip, sample_rate=RATE, label=None)
    assert nothing.compute()["gender_accuracy"].startswith("unavailable: no expected label")


def test_trace_sqrt_product_equals_sqrtm() -> None:
    rng = np.random.default_rng(0)
    for rows, dims in ((200, 16), (10, 24)):  # full rank, and singular (fewer samples than dims)
        cov_a = np.cov(rng.normal(size=(rows, dims)), rowvar=False)
        cov_b = np.cov(rng.normal(size=(rows + 7, dims)) * 2.0 + 1.0, rowvar=False)
        expected = float(np.trace(scipy.linalg.sqrtm(cov_a @ cov_b)).real)
        assert trace_sqrt_product(cov_a, cov_b) == pytest.approx(expected, abs=1e-6)
    mean_a, mean_b = rng.normal(size=16), rng.normal(size=16)
    cov_a = np.cov(rng.normal(size=(100, 16)), rowvar=False)
    cov_b = np.cov(rng.normal(size=(90, 16)) * 1.5, rowvar=False)
    sqrtm_form = ((mean_a - mean_b) @ (mean_a - mean_b) + np.trace(cov_a) + np.trace(cov_b)
                  - 2 * np.trace(scipy.linalg.sqrtm(cov_a @ cov_b)).real)
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(sqrtm_form, abs=1e-6)


def test_outputs_above_full_scale_are_scaled_to_it_before_dnsmos():
    loud = np.array([0.5, -2.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(within_full_scale(loud), [0.25, -1.0, 0.5])
    quiet = np.array([0.5, -0.9], dtype=np.float32)
    assert within_full_scale(quiet) is quiet


def test_item_values_are_per_example_means_of_the_checks() -> None:
    # An example may be skipped (no onsets) or make several checks; its value is their mean.
    audio = np.zeros(3 * RATE, np.float32)
    for start in (0.5, 1.5):
        audio[int(start * RATE):int(start * RATE) + RATE // 10] = 0.5
    metric = OnsetError()
    metric.update(estimate=audio, sample_rate=RATE, onsets=[0.6, 1.5])
    assert metric.item_values() is None  # no example closed yet
    metric.end_item()
    metric.update(estimate=audio, sample_rate=RATE, onsets=[])
    metric.end_item()
    metric.update(estimate=np.zeros(RATE, np.float32), sample_rate=RATE, onsets=[0.2])
    metric.end_item()
    first, skipped, silent = metric.item_values()
    assert first == pytest.approx(0.05) and np.isnan(skipped) and silent == pytest.approx(1.0)
    assert metric.compute()["onset_error_s"] == pytest.approx((0.1 + 0.0 + 1.0) / 3)
    metric.reset()
    assert metric.item_values() is None

"""F0 RMSE and semitone accuracy on tones of known pitch."""

import numpy as np
import pytest

from unisono.errors import UnisonoError
from unisono.metrics import F0Metrics, is_unavailable
from unisono.metrics.pitch import cents

SR = 16000


def _tone(hz: float, seconds: float = 1.0, rate: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    # a few harmonics: a voice-like spectrum the tracker is trained on
    wave = sum(np.sin(2 * np.pi * k * hz * t) / k for k in (1, 2, 3))
    return (0.2 * wave).astype(np.float32)


def test_cents_closed_form():
    assert cents(np.array([440.0, 880.0, 220.0]), np.array([440.0, 440.0, 440.0])) == pytest.approx(
        [0.0, 1200.0, -1200.0])


@pytest.mark.parametrize(("offset_cents", "accurate"), [(0.0, 1.0), (30.0, 1.0), (80.0, 0.0)])
def test_offset_tones_give_the_offset_as_rmse(offset_cents, accurate):
    metric = F0Metrics()
    reference = _tone(220.0)
    estimate = _tone(220.0 * 2 ** (offset_cents / 1200))
    metric.update(estimate=estimate, reference=reference, sample_rate=SR)
    result = metric.compute()
    assert result["f0_rmse_cents"] == pytest.approx(offset_cents, abs=8.0)
    assert result["semitone_accuracy"] == pytest.approx(accurate, abs=0.05)


def test_frames_are_pooled_over_pairs_and_unvoiced_estimates_count_wrong():
    metric = F0Metrics()
    reference = _tone(330.0)
    metric.update(estimate=reference, reference=reference, sample_rate=SR)
    metric.update(estimate=np.zeros_like(reference), reference=reference, sample_rate=SR)
    result = metric.compute()
    assert result["f0_rmse_cents"] == pytest.approx(0.0, abs=3.0)  # only the voiced pair counts
    assert result["semitone_accuracy"] == pytest.approx(0.5, abs=0.03)  # silence is never right
    assert np.isnan(metric.item_values()[1])


def test_no_voiced_frames_is_unavailable_not_a_number():
    metric = F0Metrics()
    silence = np.zeros(SR, dtype=np.float32)
    metric.update(estimate=silence, reference=silence, sample_rate=SR)
    result = metric.compute()
    assert is_unavailable(result["f0_rmse_cents"]) and is_unavailable(result["semitone_accuracy"])


def test_other_rates_and_bad_pairs():
    metric = F0Metrics()
    tone = _tone(262.0, rate=44100)
    metric.update(estimate=tone, reference=tone, sample_rate=44100)
    assert metric.compute()["semitone_accuracy"] > 0.9
    with pytest.raises(UnisonoError, match="lengths differ"):
        metric.update(estimate=tone[:-5], reference=tone, sample_rate=44100)

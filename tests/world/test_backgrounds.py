"""Background beds: determinism, exact lengths, continuity, noise colours, hum and spectral balance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from unisono.errors import UnisonoError
from unisono.world.backgrounds import BACKGROUNDS, Background, render_background
from unisono.world.sfx import PEAK_LEVEL

SR = 16000


def test_registry_has_the_required_beds() -> None:
    for name in ("rain", "wind", "room tone", "traffic", "white noise", "pink noise", "brown noise"):
        assert isinstance(BACKGROUNDS[name], Background)
        assert BACKGROUNDS[name].description


@pytest.mark.parametrize("name", list(BACKGROUNDS))
def test_length_determinism_and_continuity(name: str) -> None:
    duration = 3.00007
    audio = render_background(name, seed=11, duration=duration, sample_rate=SR)
    assert audio.dtype == np.float32 and audio.shape == (round(duration * SR),)
    assert np.all(np.isfinite(audio))
    assert np.max(np.abs(audio)) == pytest.approx(PEAK_LEVEL, rel=1e-5)
    assert render_background(name, seed=11, duration=duration, sample_rate=SR).tobytes() == audio.tobytes()
    assert not np.array_equal(render_background(name, seed=12, duration=duration, sample_rate=SR), audio)
    # No onset and no gaps: every 100 ms frame (the fades excluded) is within 25 dB of the median.
    frames = audio[SR // 100 : SR // 100 + 29 * SR // 10].reshape(29, SR // 10).astype(np.float64)
    level = 10.0 * np.log10(np.mean(frames**2, axis=1))
    assert np.all(level > np.median(level) - 25.0), (name, level.round(1))


def spectral_slope(audio: np.ndarray) -> float:
    """Slope of log power vs log frequency (Welch PSD, 50 Hz - 6 kHz)."""
    freqs, psd = signal.welch(audio.astype(np.float64), fs=SR, nperseg=4096)
    band = (freqs >= 50.0) & (freqs <= 6000.0)
    return float(np.polyfit(np.log10(freqs[band]), np.log10(psd[band]), 1)[0])


@pytest.mark.parametrize(("name", "slope"), [("white noise", 0.0), ("pink noise", -1.0),
                                             ("brown noise", -2.0)])
def test_noise_colours_have_their_spectral_slope(name: str, slope: float) -> None:
    audio = render_background(name, seed=3, duration=8.0, sample_rate=SR)
    assert spectral_slope(audio) == pytest.approx(slope, abs=0.1)


def test_room_tone_hums_at_mains_frequency() -> None:
    for seed in range(4):
        audio = render_background("room tone", seed=seed, duration=4.0, sample_rate=SR)
        freqs, psd = signal.welch(audio.astype(np.float64), fs=SR, nperseg=SR)  # 1 Hz bins
        low = (freqs >= 40.0) & (freqs <= 70.0)
        peak = float(freqs[low][np.argmax(psd[low])])
        assert peak in (50.0, 60.0), peak


def low_frequency_share(audio: np.ndarray) -> float:
    freqs, psd = signal.welch(audio.astype(np.float64), fs=SR, nperseg=2048)
    return float(psd[freqs < 300.0].sum() / psd.sum())


def test_spectral_balance_tells_beds_apart() -> None:
    # Distant traffic and room tone are rumble; rain is a hiss (white noise has 300/8000 = 3.75 %).
    for seed in range(3):
        def share(name: str, seed: int = seed) -> float:
            return low_frequency_share(render_background(name, seed=seed, duration=4.0, sample_rate=SR))

        assert share("traffic") > 0.3 and share("room tone") > 0.3
        assert share("rain") < 0.01
        assert share("white noise") == pytest.approx(300.0 / 8000.0, abs=0.01)


def test_bad_input_errors() -> None:
    with pytest.raises(UnisonoError, match="room tone"):
        render_background("room tones", seed=0, duration=1.0, sample_rate=SR)
    with pytest.raises(UnisonoError, match="duration"):
        render_background("rain", seed=0, duration=0.0, sample_rate=SR)
    with pytest.raises(UnisonoError, match="sample_rate"):
        render_background("rain", seed=0, duration=1.0, sample_rate=100)

"""Procedural sound-event classes: determinism, exact lengths, onsets, counts, pitch, distinctness."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from unisono.errors import UnisonoError
from unisono.world.sfx import EVENT_CLASSES, PEAK_LEVEL, EventClass, render_event
from unisono.world.sfx.signals import DOORBELL_HZ, SMOKE_ALARM_HZ, WHISTLE_HZ
from unisono.world.sfx.synth import modal

SR = 16000
NAMES = list(EVENT_CLASSES)
MUST_HAVE = (
    "siren", "doorbell", "phone ring", "whistle", "church bell", "gong", "drum roll", "clapping",
    "footsteps", "knocking", "ticking clock", "rain", "wind", "thunder", "waves", "engine hum",
    "car horn", "dripping water", "bird chirp", "crickets",
)


def frame_energy_db(audio: np.ndarray, frame: int) -> np.ndarray:
    """Energy (dB) of consecutive non-overlapping frames."""
    usable = audio[: audio.shape[0] // frame * frame].astype(np.float64)
    return 10.0 * np.log10(np.mean(usable.reshape(-1, frame) ** 2, axis=1) + 1e-20)


def test_registry_is_complete_and_well_formed() -> None:
    assert len(EVENT_CLASSES) >= 44
    for name in MUST_HAVE:
        assert name in EVENT_CLASSES, name
    for name, event in EVENT_CLASSES.items():
        assert isinstance(event, EventClass) and event.name == name == name.lower()
        assert 0.0 < event.duration_range[0] <= event.duration_range[1]
        assert event.verbs and all(isinstance(v, str) and v for v in event.verbs)
        assert event.countable or event.count_range == (1, 1)
        assert 1 <= event.count_range[0] <= event.count_range[1]


@pytest.mark.parametrize("name", NAMES)
def test_length_dtype_peak_onset_and_determinism(name: str) -> None:
    event = EVENT_CLASSES[name]
    duration = event.duration_range[0] * 0.5 + event.duration_range[1] * 0.5
    duration = min(duration, 3.0) + 0.00003  # not a whole number of samples: checks the rounding
    count = event.count_range[1] if event.countable else None
    audio = render_event(name, seed=7, duration=duration, sample_rate=SR, variant=1, count=count)
    assert audio.dtype == np.float32 and audio.shape == (round(duration * SR),)
    assert np.all(np.isfinite(audio))
    assert np.max(np.abs(audio)) == pytest.approx(PEAK_LEVEL, rel=1e-5)
    # Energy onset: first 5 ms frame above -30 dB re. the loudest frame, within 20 ms of sample 0.
    energy = frame_energy_db(audio, SR // 200)
    onset_frame = int(np.argmax(energy > energy.max() - 30.0))
    assert onset_frame * 0.005 <= 0.02, f"{name} starts {onset_frame * 5} ms late"
    # Short fade-out: the last sample is (near) silent, so nothing clicks.
    assert abs(float(audio[-1])) < 1e-3
    again = render_event(name, seed=7, duration=duration, sample_rate=SR, variant=1, count=count)
    assert again.tobytes() == audio.tobytes()
    other = render_event(name, seed=8, duration=duration, sample_rate=SR, variant=1, count=count)
    assert not np.array_equal(other, audio)


CONTINUOUS = [n for n, e in EVENT_CLASSES.items() if n in (
    "siren", "alarm clock", "rain", "wind", "waves", "stream", "crickets", "applause", "engine hum",
    "helicopter", "ticking clock", "sawing", "drum roll", "fire crackling", "typing", "wind chimes",
    "power drill", "water pouring")]


@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_classes_last_the_whole_clip(name: str) -> None:
    audio = render_event(name, seed=3, duration=4.0, sample_rate=SR, variant=2)
    energy = frame_energy_db(audio, SR // 10)  # 100 ms frames
    last_active = np.nonzero(energy > energy.max() - 30.0)[0][-1]
    assert (last_active + 1) * 0.1 >= 0.8 * 4.0


def count_bursts(audio: np.ndarray, min_gap: float) -> int:
    """Bursts = peaks of the 10 ms energy envelope with >= 12 dB prominence, min_gap apart."""
    energy = frame_energy_db(audio, SR // 100)
    energy = np.maximum(energy, energy.max() - 60.0)
    peaks, _ = signal.find_peaks(energy, prominence=12.0, distance=max(int(min_gap / 0.01), 1))
    # A burst at the very start has no rising edge inside the clip: find_peaks misses frame 0.
    starts_loud = energy[0] > energy.max() - 12.0 and (peaks.size == 0 or peaks[0] > min_gap / 0.01)
    return int(peaks.size + starts_loud)


@pytest.mark.parametrize(
    ("name", "count", "duration"),
    [("knocking", 3, 1.2), ("knocking", 5, 2.0), ("dog bark", 4, 2.4), ("car horn", 2, 1.6),
     ("hammering", 6, 3.0), ("smoke alarm", 3, 2.4), ("clapping", 5, 2.5), ("owl hoot", 3, 3.0),
     ("frog croak", 4, 2.4), ("dripping water", 5, 2.5), ("laser zap", 3, 1.5)],
)
def test_countable_classes_repeat_count_times(name: str, count: int, duration: float) -> None:
    for seed in (0, 1):
        audio = render_event(name, seed=seed, duration=duration, sample_rate=SR, count=count,
                             variant=seed % 4)
        assert count_bursts(audio, min_gap=0.4 * duration / count) == count, (name, seed)


def dominant_frequency(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.shape[0])))
    return float(np.fft.rfftfreq(audio.shape[0], 1.0 / SR)[np.argmax(spectrum)])


@pytest.mark.parametrize(
    ("name", "band"),
    [("whistle", WHISTLE_HZ), ("doorbell", DOORBELL_HZ), ("smoke alarm", SMOKE_ALARM_HZ)],
)
def test_pitched_classes_sound_in_their_declared_band(name: str, band: tuple[float, float]) -> None:
    for variant in range(4):
        audio = render_event(name, seed=variant, duration=1.5, sample_rate=SR, variant=variant,
                             count=1 if name != "doorbell" else 2)
        assert band[0] <= dominant_frequency(audio) <= band[1], (name, variant)


def test_variants_move_the_parameters() -> None:
    # The held-out variant owns the middle bin: its whistle pitch lies between the others' extremes.
    pitches = {v: dominant_frequency(render_event("whistle", seed=5, duration=1.0, sample_rate=SR,
                                                  variant=v)) for v in range(4)}
    assert pitches[0] < pitches[3] < pitches[2]


def test_modal_matches_closed_form() -> None:
    t = np.arange(12000) / SR
    freqs, t60s, amps = [440.0, 1234.5, 3000.0], [0.5, 1.2, 0.1], [1.0, 0.5, 0.2]
    expected = sum(a * np.sin(2 * np.pi * f * t) * np.exp(-np.log(1000.0) * t / d)
                   for f, d, a in zip(freqs, t60s, amps, strict=True))
    np.testing.assert_allclose(modal(12000, SR, freqs, t60s, amps), expected, atol=1e-6)


def test_other_sample_rates_render() -> None:
    for sample_rate in (22050, 44100):
        audio = render_event("glass breaking", seed=1, duration=0.7, sample_rate=sample_rate)
        assert audio.shape == (round(0.7 * sample_rate),) and np.all(np.isfinite(audio))
    with pytest.raises(UnisonoError, match="sample_rate"):
        render_event("glass breaking", seed=1, duration=0.7, sample_rate=8000)


def test_bad_input_errors() -> None:
    with pytest.raises(UnisonoError, match="church bell"):
        render_event("church bel", seed=0, duration=1.0, sample_rate=SR)
    with pytest.raises(UnisonoError, match="unknown"):
        render_event("zzzz", seed=0, duration=1.0, sample_rate=SR)
    with pytest.raises(UnisonoError, match="variant"):
        render_event("siren", seed=0, duration=1.0, sample_rate=SR, variant=4)
    with pytest.raises(UnisonoError, match="variant"):
        render_event("siren", seed=0, duration=1.0, sample_rate=SR, variant=-1)
    for duration in (0.0, -1.0, float("nan")):
        with pytest.raises(UnisonoError, match="duration"):
            render_event("siren", seed=0, duration=duration, sample_rate=SR)
    with pytest.raises(UnisonoError, match="not countable"):
        render_event("siren", seed=0, duration=1.0, sample_rate=SR, count=3)
    with pytest.raises(UnisonoError, match="count"):
        render_event("knocking", seed=0, duration=1.0, sample_rate=SR, count=0)


# ---- distinctness: a nearest-centroid classifier on log-mel statistics -------------------------

_N_FFT, _HOP = 1024, 320


def _mel_bank() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SR, n_fft=_N_FFT, n_mels=40)


def clip_features(audio: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """Spectral shape and texture of the active frames plus envelope-modulation energy."""
    padded = np.concatenate([audio, np.zeros(_N_FFT, np.float32)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP] * np.hanning(_N_FFT)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).T
    log_mel = 10.0 * np.log10(mel @ power + 1e-10)
    energy = 10.0 * np.log10(power.sum(0) + 1e-10)
    active = energy > energy.max() - 35.0
    shape = log_mel[:, active] - energy.max()
    flatness = np.exp(np.mean(np.log(power[:, active] + 1e-10), 0)) / (power[:, active].mean(0) + 1e-10)
    envelope = np.maximum(energy - energy.max(), -50.0)
    modulation = np.abs(np.fft.rfft(envelope - envelope.mean(), 1024))
    freqs = np.fft.rfftfreq(1024, _HOP / SR)
    bands = [(0.3, 1.0), (1.0, 3.0), (3.0, 8.0), (8.0, 15.0), (15.0, 25.0)]
    mod = [np.log(modulation[(freqs >= a) & (freqs < b)].mean() + 1e-3) for a, b in bands]
    texture = [active.mean() * 3.0, np.abs(np.diff(envelope)).mean() / 3.0, np.log(flatness.mean()),
               np.log(flatness).std()]
    return np.concatenate([shape.mean(1) / 10.0, shape.std(1) / 10.0, texture, mod])


def _random_clip(name: str, seed: int, variant: int) -> np.ndarray:
    event = EVENT_CLASSES[name]
    rng = np.random.default_rng(seed)
    duration = min(float(rng.uniform(*event.duration_range)), 2.5)
    count = int(rng.integers(event.count_range[0], event.count_range[1] + 1))
    return render_event(name, seed=seed, duration=duration, sample_rate=SR, variant=variant,
                        count=count if event.countable else None)


def test_classes_are_distinct_to_a_nearest_centroid_classifier() -> None:
    mel = _mel_bank()
    train_x, train_y, test_x, test_y = [], [], [], []
    for label, name in enumerate(NAMES):
        for seed in range(6):  # training variants only
            train_x.append(clip_features(_random_clip(name, 100 + seed, seed % 3), mel))
            train_y.append(label)
        for seed in range(3):  # unseen seeds; two of three on the held-out variant
            variant = 3 if seed < 2 else 1
            test_x.append(clip_features(_random_clip(name, 900 + seed, variant), mel))
            test_y.append(label)
    train_x, test_x = np.array(train_x), np.array(test_x)
    train_y, test_y = np.array(train_y), np.array(test_y)
    centroids = np.array([train_x[train_y == k].mean(0) for k in range(len(NAMES))])
    spread = np.sqrt(np.mean((train_x - centroids[train_y]) ** 2, axis=0)) + 1e-3
    distances = (((test_x[:, None, :] - centroids[None]) / spread) ** 2).sum(-1)
    accuracy = float(np.mean(np.argmin(distances, axis=1) == test_y))
    assert accuracy >= 0.88, f"nearest-centroid accuracy {accuracy:.2f} over {len(NAMES)} classes"

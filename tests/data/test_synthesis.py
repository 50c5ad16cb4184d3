"""Online synthesis and clip access: augmentations against closed forms, exact mixing sums,
reproducible draws, clip loading, caching and naming."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from unisono.audio import rms
from unisono.data.clips import (
    ClipCache,
    clip_path,
    clips_of_kinds,
    event_names,
    load_clip,
    pool_from_manifests,
)
from unisono.data.manifest import ManifestEntry
from unisono.data.synthesis import (
    AugmentConfig,
    Mixture,
    augment,
    event_gain,
    place_event,
    random_window,
    trim_silence,
)
from unisono.errors import UnisonoError
from unisono.tasks import ClipPool

RATE = 16000


def _tone(frequency: float, seconds: float, rate: int = RATE, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def _peak_frequency(audio: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.shape[0])))
    return float(np.fft.rfftfreq(audio.shape[0], 1.0 / rate)[np.argmax(spectrum)])


def test_nothing_applied_returns_the_input_and_draws_a_fixed_amount() -> None:
    audio = _tone(440.0, 1.0)
    states = []
    for probability in (0.0, 1.0):
        config = AugmentConfig(stretch_probability=probability, pitch_probability=probability,
                               reverb_probability=probability, noise_probability=probability,
                               lowpass_probability=probability)
        rng = np.random.default_rng(3)
        out, params = augment(audio, RATE, rng, config)
        if probability == 0.0:
            assert np.array_equal(out, audio) and params == {}
        else:
            assert set(params) == {"stretch", "semitones", "rt60", "noise_snr_db",
                                   "noise_exponent", "cutoff_hz"}
        states.append(rng.random())
    assert states[0] == states[1]  # the other draws do not depend on what was applied


def test_augment_is_reproducible_from_the_seed() -> None:
    audio = _tone(330.0, 1.0)
    config = AugmentConfig(stretch_probability=0.5, pitch_probability=0.5, reverb_probability=0.5,
                           noise_probability=0.5, lowpass_probability=0.5)
    for seed in range(4):
        first = augment(audio, RATE, np.random.default_rng(seed), config)
        again = augment(audio, RATE, np.random.default_rng(seed), config)
        assert first[0].tobytes() == again[0].tobytes() and first[1] == again[1]


def test_pitch_shift_moves_a_tone_by_the_drawn_semitones() -> None:
    config = AugmentConfig(pitch_probability=1.0, max_semitones=3.0)
    for seed in range(3):
        out, params = augment(_tone(440.0, 1.0), RATE, np.random.default_rng(seed), config)
        assert abs(params["semitones"]) <= 3.0
        expected = 440.0 * 2.0 ** (params["semitones"] / 12.0)
        assert _peak_frequency(out[2000:-2000]) == pytest.approx(expected, rel=0.01)


def test_time_stretch_changes_the_length_by_the_rate_and_keeps_the_pitch() -> None:
    config = AugmentConfig(stretch_probability=1.0, stretch_range=(0.8, 1.2))
    for seed in range(3):
        out, params = augment(_tone(440.0, 2.0), RATE, np.random.default_rng(seed), config)
        assert 0.8 <= params["stretch"] <= 1.2
        assert out.shape[0] == pytest.approx(2 * RATE / params["stretch"], abs=2)
        assert _peak_frequency(out[2000:-2000]) == pytest.approx(440.0, rel=0.01)


def test_noise_is_added_at_the_drawn_snr() -> None:
    config = AugmentConfig(noise_probability=1.0, noise_snr_range=(5.0, 25.0))
    audio = _tone(440.0, 2.0)
    for seed in range(4):
        out, params = augment(audio, RATE, np.random.default_rng(seed), config)
        measured = 20 * np.log10(rms(audio) / rms(out - audio))
        assert measured == pytest.approx(params["noise_snr_db"], abs=0.5)


def test_lowpass_leaves_no_energy_above_the_cutoff() -> None:
    config = AugmentConfig(lowpass_probability=1.0)
    noise = (0.1 * np.random.default_rng(0).standard_normal(RATE)).astype(np.float32)
    out, params = augment(noise, RATE, np.random.default_rng(1), config)
    assert 2000.0 <= params["cutoff_hz"] <= 6000.0
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(out.shape[0], 1.0 / RATE)
    assert 10 * np.log10(spectrum[freqs > params["cutoff_hz"] * 1.001].sum() / spectrum.sum()) < -60


def test_reverb_keeps_the_direct_sound_and_adds_a_tail() -> None:
    click = np.zeros(RATE, np.float32)
    click[100] = 1.0
    out, params = augment(click, RATE, np.random.default_rng(0),
                          AugmentConfig(reverb_probability=1.0))
    assert 0.2 <= params["rt60"] <= 1.0 and out.shape == click.shape
    assert np.abs(out[:100]).max() < 1e-6 and out[100] == pytest.approx(1.0, abs=1e-5)
    assert rms(out[200:]) > 1e-3


def test_bad_config_values_are_refused() -> None:
    with pytest.raises(UnisonoError, match="pitch_probability"):
        AugmentConfig(pitch_probability=1.5)
    with pytest.raises(UnisonoError, match="stretch_range"):
        AugmentConfig(stretch_range=(1.2, 0.8))


def test_event_gain_meets_the_snr_exactly() -> None:
    background = _tone(200.0, 2.0, amplitude=0.05)
    event = _tone(1000.0, 0.5, amplitude=0.7)
    for snr in (-3.0, 0.0, 6.0):
        gain = event_gain(background, event, snr)
        assert 20 * np.log10(rms(gain * event) / rms(background)) == pytest.approx(snr, abs=1e-6)
    silent = np.zeros(RATE, np.float32)
    assert 20 * np.log10(rms(event_gain(silent, event, 0.0) * event)) == pytest.approx(-20.0)
    with pytest.raises(UnisonoError, match="silent event"):
        event_gain(background, silent, 0.0)


def test_mixture_sums_are_exact_and_survive_peak_fitting() -> None:
    background = _tone(200.0, 1.0, amplitude=0.6)
    event = place_event(_tone(900.0, 0.3, amplitude=0.8), RATE, 4000, RATE)
    assert not event[:4000].any() and event[4000:8800].any() and not event[8800:].any()
    mixture = Mixture({"background": background, "event": event}, onsets={"event": 0.25})
    gain = mixture.fit_peak(("background", "event"))
    assert gain < 1.0 and np.abs(mixture.mix("background", "event")).max() <= 0.99 + 1e-6
    np.testing.assert_allclose(mixture.mix("background", "event") - mixture.stems["event"],
                               mixture.stems["background"], rtol=0, atol=1e-6)
    assert np.array_equal(mixture.stems["background"], (background * np.float32(gain)))
    with pytest.raises(UnisonoError, match="differ in length"):
        Mixture({"a": np.zeros(3, np.float32), "b": np.zeros(4, np.float32)})
    with pytest.raises(UnisonoError, match="unknown stems"):
        mixture.mix("speech")


def test_trim_and_window() -> None:
    tone = _tone(500.0, 0.5)
    padded = np.concatenate([np.zeros(8000, np.float32), tone, np.zeros(4000, np.float32)])
    trimmed = trim_silence(padded, RATE)
    assert abs(trimmed.shape[0] - tone.shape[0]) <= 160  # one 10 ms frame
    long = np.arange(RATE * 3, dtype=np.float32) / (RATE * 3)
    window = random_window(long, RATE, np.random.default_rng(2), rate=RATE)
    assert window.shape == (RATE,)
    start = int(round(window[RATE // 2] * RATE * 3)) - RATE // 2
    np.testing.assert_allclose(window[200:-200], long[start + 200 : start + RATE - 200], atol=1e-6)
    short = long[:100]
    assert np.array_equal(random_window(short, RATE, np.random.default_rng(2), rate=RATE), short)


def _write_manifest(tmp_path, entries: list[dict]) -> str:
    path = tmp_path / "clips" / "manifest.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return str(path)


def test_load_clip_resolves_resamples_caches_and_is_read_only(tmp_path) -> None:
    (tmp_path / "clips" / "audio").mkdir(parents=True)
    sf.write(str(tmp_path / "clips" / "audio" / "a.wav"), _tone(441.0, 1.0, rate=22050), 22050)
    manifest = _write_manifest(tmp_path, [{"id": "a", "path": "audio/a.wav", "kind": "sfx"}])
    pool = pool_from_manifests([manifest], sample_rate=RATE, max_seconds=10.0)
    assert clip_path(pool, pool.entries[0]) == tmp_path / "clips" / "audio" / "a.wav"
    cache = ClipCache(max_items=1)
    audio = load_clip(pool, pool.entries[0], cache=cache)
    assert audio.shape[0] == pytest.approx(RATE, abs=1) and audio.dtype == np.float32
    assert _peak_frequency(audio) == pytest.approx(441.0, abs=2.0)
    assert load_clip(pool, pool.entries[0], cache=cache) is audio and len(cache) == 1
    with pytest.raises(ValueError):
        audio[0] = 1.0
    other = ClipPool(pool.entries, sample_rate=8000, max_seconds=10.0, paths=pool.paths)
    assert load_clip(other, pool.entries[0], cache=cache).shape[0] == pytest.approx(8000, abs=1)
    assert len(cache) == 1  # the least recently used clip was dropped
    with pytest.raises(UnisonoError, match="appears in"):
        pool_from_manifests([manifest, manifest], sample_rate=RATE, max_seconds=10.0)


def test_roles_and_names_need_no_world_metadata() -> None:
    entries = [
        ManifestEntry(id="one", path="/a.wav", kind="sfx", labels=["dog bark"],
                      captions=["A dog barks twice", "From 0.2 s to 1 s a dog barks"]),
        ManifestEntry(id="many", path="/b.wav", kind="sfx", labels=["horn", "wind"],
                      captions=["A horn over wind", "From 0 s to 3 s a horn, over wind"]),
        ManifestEntry(id="plain", path="/c.wav", kind="audio", labels=["bell", "rain"]),
        ManifestEntry(id="bare", path="/d.wav", kind="audio"),
        ManifestEntry(id="long", path="/e.wav", kind="audio", labels=["x"], duration=30.0),
    ]
    assert event_names(entries[0]) == ["dog bark"]
    assert event_names(entries[1]) == ["A horn over wind"]
    assert event_names(entries[2]) == ["bell and rain"]
    assert event_names(entries[3]) == []
    pool = ClipPool(entries, sample_rate=RATE, max_seconds=10.0)
    assert [e.id for e in clips_of_kinds(pool, ("audio",), named=True)] == ["plain"]
    assert [e.id for e in clips_of_kinds(pool, ("audio",), max_seconds=40.0)] == [
        "plain", "bare", "long"]

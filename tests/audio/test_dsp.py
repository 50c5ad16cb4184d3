"""Levels, mixing, fades, features and effects against closed forms and reference libraries."""

import librosa
import numpy as np
import pytest

from unisono import UnisonoError
from unisono.audio import (
    DEFAULT_PEAK,
    fade,
    limit_peak,
    log_mel,
    lowpass,
    mix_at_snr,
    normalize_rms,
    place,
    reverberate,
    rms,
    rms_db,
    synthetic_rir,
)

SR = 16000


def test_rms_of_sine_is_amplitude_over_root_two():
    t = np.arange(SR) / SR
    x = 0.8 * np.sin(2 * np.pi * 100 * t)
    assert rms(x) == pytest.approx(0.8 / np.sqrt(2), rel=1e-4)
    assert rms_db(x) == pytest.approx(20 * np.log10(0.8 / np.sqrt(2)), abs=1e-3)
    assert rms_db(normalize_rms(x.astype(np.float32), -23.0)) == pytest.approx(-23.0, abs=1e-3)


def test_mix_at_snr_hits_the_requested_snr_exactly():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(SR).astype(np.float32)
    noise = 3 * rng.standard_normal(SR).astype(np.float32)
    for snr in (-5.0, 0.0, 12.5):
        mix, scaled = mix_at_snr(signal, noise, snr)
        assert 20 * np.log10(rms(signal) / rms(scaled)) == pytest.approx(snr, abs=1e-4)
        np.testing.assert_allclose(mix, signal + scaled, atol=1e-6)
    with pytest.raises(UnisonoError, match="silent"):
        mix_at_snr(signal, np.zeros_like(signal), 0.0)


def test_fade_ramps_and_keeps_middle():
    x = np.ones(1000, np.float32)
    y = fade(x, 1000, fade_in=0.1, fade_out=0.1)
    assert y[0] < 0.01 and y[-1] < 0.01 and np.all(y[100:900] == 1.0)
    assert np.all(np.diff(y[:100]) > 0)


def test_place_truncates_and_offsets():
    track = place(np.ones(10, np.float32), 15, 10)
    assert track.sum() == 5 and track[10] == 1 and track[9] == 0


def _clip_with_peak(peak: float) -> np.ndarray:
    """Noise in (-0.5, 0.5) whose loudest sample is -peak (a negative peak keeps its sign)."""
    clip = np.random.default_rng(4).uniform(-0.5, 0.5, SR).astype(np.float32)
    clip[123] = -peak
    return clip


def test_limit_peak_scales_a_loud_clip_to_the_ceiling_by_one_gain():
    loud = _clip_with_peak(1.5)
    halved = limit_peak(loud, peak=0.75)
    assert np.abs(halved).max() == 0.75 and halved[123] == -0.75
    np.testing.assert_array_equal(halved, loud * np.float32(0.5))  # exactly half: one gain
    # The default ceiling: the largest float32 not above 0.99, never a rounding step over it.
    ceiling = np.nextafter(np.float32(DEFAULT_PEAK), np.float32(0.0))
    assert float(np.float32(DEFAULT_PEAK)) > DEFAULT_PEAK >= float(ceiling)
    limited = limit_peak(loud)
    assert limited.dtype == np.float32 and limited.shape == loud.shape
    assert np.abs(limited).max() == ceiling
    np.testing.assert_allclose(limited, loud.astype(np.float64) * (float(ceiling) / 1.5),
                               rtol=1e-7, atol=0.0)
    assert np.abs(limit_peak(_clip_with_peak(1e6), peak=1.0)).max() == 1.0


def test_limit_peak_leaves_quiet_silent_and_empty_clips_bit_for_bit():
    for clip in (_clip_with_peak(0.5), _clip_with_peak(0.75), np.zeros(SR, np.float32),
                 np.zeros(0, np.float32)):
        out = limit_peak(clip, peak=0.75)  # at the ceiling counts as under it
        assert out.tobytes() == clip.tobytes() and out.dtype == np.float32
        assert out is not clip  # a new array, as for a loud clip
    quiet = np.float32(0.2) * _clip_with_peak(0.5)  # peak 0.1: never scaled up
    assert limit_peak(quiet).tobytes() == quiet.tobytes()


@pytest.mark.parametrize("peak", [0.0, -0.5, float("nan"), float("inf"), "loud", None])
def test_limit_peak_rejects_a_ceiling_that_is_not_above_zero(peak):
    with pytest.raises(UnisonoError, match="peak ceiling must be a finite number above 0.*0.99"):
        limit_peak(_clip_with_peak(1.5), peak=peak)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_limit_peak_rejects_non_finite_audio(bad):
    clip = _clip_with_peak(1.5)
    clip[7] = bad
    with pytest.raises(UnisonoError, match="1 NaN or Inf samples, so its peak cannot be limited"):
        limit_peak(clip)


def test_log_mel_matches_librosa():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SR).astype(np.float32) * 0.1
    ours = log_mel(x, SR).numpy()
    ref = librosa.feature.melspectrogram(y=x, sr=SR, n_fft=1024, hop_length=256, n_mels=80, htk=True,
                                         power=2.0, center=True, pad_mode="reflect")
    np.testing.assert_allclose(ours, np.log10(np.maximum(ref, 1e-5)), atol=2e-3)


@pytest.mark.parametrize("cutoff", [2000.0, 4000.0, 6000.0])
def test_lowpass_leaves_no_energy_above_cutoff(cutoff):
    x = np.random.default_rng(2).standard_normal(SR).astype(np.float32)
    y = lowpass(x, SR, cutoff)
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    assert spectrum[freqs > cutoff].sum() / spectrum.sum() < 1e-6
    assert spectrum[freqs < cutoff * 0.8].sum() > 0.5 * (np.abs(np.fft.rfft(x)) ** 2)[freqs < cutoff * 0.8].sum()


def test_rir_decays_60_db_over_rt60():
    rir = synthetic_rir(np.random.default_rng(3), SR, rt60=0.5)
    energy = np.cumsum((rir[::-1].astype(np.float64)) ** 2)[::-1]  # Schroeder integral
    edc = 10 * np.log10(energy / energy[0])
    # the decay slope between -5 and -25 dB extrapolates to an RT60 near 0.5 s
    i5, i25 = np.argmax(edc < -5), np.argmax(edc < -25)
    rt60 = 3 * (i25 - i5) / SR
    assert 0.35 < rt60 < 0.65
    y = reverberate(np.ones(100, np.float32), rir)
    assert y.shape == (100,)

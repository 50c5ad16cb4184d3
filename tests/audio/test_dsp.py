"""Levels, mixing, fades, features and effects against closed forms and reference libraries."""

import librosa
import numpy as np
import pytest

from unisono import UnisonoError
from unisono.audio import (
    fade,
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

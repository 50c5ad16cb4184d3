"""Metric definitions against closed forms and independent librosa / numpy implementations."""

import librosa
import numpy as np
import pytest

from unisono.errors import UnisonoError
from unisono.metrics import SI_SDR_CAP_DB, log_mel_l1, log_spectral_distance, si_sdr

SR = 16000


@pytest.fixture
def noise() -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)


def test_identical_signals(noise):
    assert log_mel_l1(noise, noise) == 0.0
    assert log_spectral_distance(noise, noise) == 0.0
    assert si_sdr(noise, noise) == SI_SDR_CAP_DB


def test_scaled_copy_closed_forms(noise):
    # power scales by g^2 -> every log10 difference is 2 log10(g) when above the floors
    expected = abs(2 * np.log10(0.5))
    assert log_mel_l1(noise, 0.5 * noise) == pytest.approx(expected, abs=1e-4)
    assert log_spectral_distance(noise, 0.5 * noise) == pytest.approx(expected, abs=1e-4)
    assert si_sdr(noise, 0.5 * noise) == SI_SDR_CAP_DB
    assert si_sdr(noise, -3.0 * noise) == SI_SDR_CAP_DB  # scale-invariant, sign included


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 20.0, 40.0])
def test_si_sdr_known_noise_level(snr_db):
    rng = np.random.default_rng(1)
    t = np.arange(SR) / SR
    reference = np.sin(2 * np.pi * 440 * t)
    noise = rng.standard_normal(SR)
    noise -= noise.mean()
    noise -= (
        np.dot(noise, reference - reference.mean())
        / np.sum((reference - reference.mean()) ** 2)
        * (reference - reference.mean())
    )  # orthogonal to the zero-mean reference
    noise *= np.sqrt(
        np.sum((reference - reference.mean()) ** 2) / np.sum(noise**2) / 10 ** (snr_db / 10)
    )
    assert si_sdr(reference, reference + noise) == pytest.approx(snr_db, abs=0.01)


def test_si_sdr_ignores_dc_offset(noise):
    assert si_sdr(noise, noise + 0.3) == SI_SDR_CAP_DB


def test_log_mel_l1_matches_librosa(noise):
    other = np.roll(noise, 100) * 0.7 + 0.01 * noise

    def log_mel(x):
        mel = librosa.feature.melspectrogram(
            y=x,
            sr=SR,
            n_fft=1024,
            hop_length=256,
            n_mels=80,
            htk=True,
            power=2.0,
            center=True,
            pad_mode="reflect",
        )
        return np.log10(np.maximum(mel, 1e-5))

    expected = np.mean(np.abs(log_mel(noise) - log_mel(other)))
    assert log_mel_l1(noise, other) == pytest.approx(expected, rel=1e-3)


def test_lsd_matches_numpy_definition(noise):
    other = np.convolve(noise, [0.5, 0.3, 0.2], mode="same").astype(np.float32)

    def power(x):
        return (
            np.abs(
                librosa.stft(
                    x.astype(np.float64),
                    n_fft=2048,
                    hop_length=512,
                    center=True,
                    pad_mode="reflect",
                )
            )
            ** 2
        )

    diff = np.log10(np.maximum(power(noise), 1e-8)) - np.log10(np.maximum(power(other), 1e-8))
    expected = np.mean(np.sqrt(np.mean(diff**2, axis=0)))
    assert log_spectral_distance(noise, other) == pytest.approx(expected, rel=1e-4)


def test_other_sample_rates_are_resampled_to_16k(noise):
    # a 2 kHz tone at 32 kHz vs the same tone at half amplitude: closed form survives resampling
    t = np.arange(32000) / 32000
    tone = (0.3 * np.sin(2 * np.pi * 2000 * t)).astype(np.float32)
    tone += (0.05 * np.random.default_rng(2).standard_normal(32000)).astype(np.float32)
    value = log_mel_l1(tone, 0.5 * tone, sample_rate=32000)
    assert value == pytest.approx(abs(2 * np.log10(0.5)), abs=0.02)


@pytest.mark.parametrize("metric", [log_mel_l1, log_spectral_distance, si_sdr])
def test_bad_inputs_raise(metric, noise):
    with pytest.raises(UnisonoError, match="lengths differ"):
        metric(noise, noise[:-1])
    with pytest.raises(UnisonoError, match="empty"):
        metric(noise[:0], noise[:0])
    bad = noise.copy()
    bad[10] = np.nan
    with pytest.raises(UnisonoError, match="NaN"):
        metric(noise, bad)


def _scene(seconds: float = 3.0):
    """A 440 Hz bed with a 3 kHz event in its second second (disjoint mel bands)."""
    t = np.arange(int(seconds * SR)) / SR
    bed = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    event = np.zeros_like(bed)
    event[SR:2 * SR] = 0.3 * np.sin(2 * np.pi * 3000 * t[SR:2 * SR])
    return bed, event


def test_change_energy_of_a_removal_closed_forms():
    from unisono.metrics import change_energy

    bed, event = _scene()
    source, target = bed + event, bed
    # Where the event dominates, an output keeping g of it has g^2 of its power: 20 log10 g dB.
    for gain in (0.5, 0.25):
        figures = change_energy(source, target, bed + gain * event, SR)
        assert figures["removed_db"] == pytest.approx(20 * np.log10(gain), abs=0.05)
        assert figures["kept_db"] == pytest.approx(0.0, abs=0.01)
        assert np.isnan(figures["added_db"])  # a removal adds nothing
    assert change_energy(source, target, source, SR)["removed_db"] == pytest.approx(0.0, abs=1e-9)
    assert change_energy(source, target, target, SR)["removed_db"] < -40  # the ideal output
    # A bed 6 dB too quiet is 6.02 dB off on the kept cells (the bed's alone).
    quiet = change_energy(source, target, 0.5 * bed + event, SR)
    assert quiet["kept_db"] == pytest.approx(20 * np.log10(2), abs=0.05)
    assert quiet["kept_level_db"] == pytest.approx(-20 * np.log10(2), abs=0.05)
    assert change_energy(source, target, target, SR)["kept_level_db"] == pytest.approx(0, abs=1e-9)
    # Turning the whole input down "removes" as much as it turns the kept cells down: the level
    # figure tells it from a removal.
    for gain in (0.5, 0.1):
        turned_down = change_energy(source, target, gain * source, SR)
        assert turned_down["removed_db"] == pytest.approx(20 * np.log10(gain), abs=0.05)
        assert turned_down["kept_level_db"] == pytest.approx(20 * np.log10(gain), abs=0.05)


def test_change_energy_of_an_addition_and_errors():
    from unisono.metrics import change_energy

    bed, event = _scene()
    figures = change_energy(bed, bed + event, bed + 0.5 * event, SR)
    # The added cells held only the bed's leakage in the source: the output is far louder there.
    assert figures["added_db"] > 20 and np.isnan(figures["removed_db"])
    ideal = change_energy(bed, bed + event, bed + event, SR)
    # Where the event dominates, half its amplitude is a quarter of the target's power.
    assert ideal["added_db"] - figures["added_db"] == pytest.approx(20 * np.log10(2), abs=0.05)
    assert ideal["kept_db"] == 0.0
    with pytest.raises(UnisonoError, match="lengths differ"):
        change_energy(bed[:-1], bed, bed, SR)

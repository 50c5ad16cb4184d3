"""Audio I/O: formats, resampling, downmix, and clear errors for bad files."""

import numpy as np
import pytest
import soundfile as sf

from unisono import UnisonoError
from unisono.audio import load_audio, resample, save_audio, to_mono, validate_audio

SR = 16000


def sine(freq: float = 440.0, seconds: float = 0.5, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("suffix,fmt", [(".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_load_every_format_as_float32_mono(tmp_path, suffix, fmt):
    stereo = np.stack([sine(440), sine(440)], axis=1)
    path = tmp_path / f"x{suffix}"
    sf.write(path, stereo, SR, format=fmt)
    audio, sr = load_audio(path)
    assert sr == SR and audio.dtype == np.float32 and audio.ndim == 1
    # lossy codecs add delay/padding; the dominant frequency must survive
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * sr / audio.shape[0]
    assert abs(peak_hz - 440) < 5
    assert abs(audio.shape[0] - stereo.shape[0]) < 0.1 * SR


def test_resample_keeps_frequency_and_duration(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, sine(1000, 1.0, 44100), 44100)
    audio, sr = load_audio(path, sample_rate=SR)
    assert sr == SR and audio.shape[0] == SR
    peak_hz = np.argmax(np.abs(np.fft.rfft(audio))) * SR / audio.shape[0]
    assert abs(peak_hz - 1000) <= 1


def test_downmix_is_channel_mean():
    left, right = sine(300), sine(500)
    np.testing.assert_allclose(to_mono(np.stack([left, right], 1)), (left + right) / 2, atol=1e-7)


def test_save_load_round_trip_float_exact(tmp_path):
    x = sine() * 1.7  # beyond full scale survives float wav
    save_audio(tmp_path / "r.wav", x, SR)
    y, _ = load_audio(tmp_path / "r.wav")
    np.testing.assert_array_equal(x, y)


def test_missing_empty_corrupt_files_have_clear_errors(tmp_path):
    with pytest.raises(UnisonoError, match="not found"):
        load_audio(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(UnisonoError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFF0000WAVEnot really audio at all" * 10)
    with pytest.raises(UnisonoError, match="cannot read"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "zero.wav", np.zeros((0,), np.float32), SR)
    with pytest.raises(UnisonoError, match="empty"):
        load_audio(tmp_path / "zero.wav")


def test_nan_silent_short_long_rejected(tmp_path):
    bad = sine()
    bad[10] = np.nan
    sf.write(tmp_path / "nan.wav", bad, SR, subtype="FLOAT")
    with pytest.raises(UnisonoError, match="NaN"):
        load_audio(tmp_path / "nan.wav")
    with pytest.raises(UnisonoError, match="silent"):
        validate_audio(np.zeros(SR, np.float32), SR, allow_silent=False)
    validate_audio(np.zeros(SR, np.float32), SR, allow_silent=True)
    with pytest.raises(UnisonoError, match="too short"):
        validate_audio(sine(seconds=0.1), SR, min_duration=0.5)
    with pytest.raises(UnisonoError, match="too long"):
        validate_audio(sine(seconds=1.0), SR, max_duration=0.5)
    with pytest.raises(UnisonoError, match="NaN"):
        save_audio(tmp_path / "out.wav", bad, SR)


def test_resample_identity_and_bad_rates():
    x = sine()
    assert resample(x, SR, SR) is not None and np.array_equal(resample(x, SR, SR), x)
    with pytest.raises(UnisonoError):
        resample(x, 0, SR)

"""Levels, mixing, fades and spectral features.

Shapes: S samples; F STFT bins; T frames; M mel bands. Functions take numpy (S,) arrays unless a
name says torch.
"""

from __future__ import annotations

import functools

import librosa
import numpy as np
import torch

from unisono.errors import UnisonoError

EPS = 1e-12
# The ceiling task outputs are scaled under by default: just below full scale, so 16-bit and FLAC
# files (and players) do not clip them.
DEFAULT_PEAK = 0.99


def rms(audio: np.ndarray) -> float:
    """Root mean square of a signal (0 for an empty one)."""
    if audio.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def rms_db(audio: np.ndarray) -> float:
    """RMS level in dBFS (a full-scale sine is -3 dBFS)."""
    return 20.0 * float(np.log10(rms(audio) + EPS))


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770) through pyloudnorm."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sample_rate)
    return float(meter.integrated_loudness(audio.astype(np.float64)))


def normalize_rms(audio: np.ndarray, target_db: float) -> np.ndarray:
    """Scale to a target RMS in dBFS; silence stays silence."""
    level = rms(audio)
    if level < 1e-9:
        return audio.astype(np.float32)
    return (audio * (10.0 ** (target_db / 20.0) / level)).astype(np.float32)


def limit_peak(audio: np.ndarray, *, peak: float = DEFAULT_PEAK) -> np.ndarray:
    """Scale a clip down by one gain so its largest absolute sample is `peak`, if it was above.

    A whole-clip gain changes the level, not the waveform (no clipping, no distortion). A clip
    already at or under the ceiling (quiet, silent or empty) comes back bit for bit; a clip is
    never scaled up.

    Args:
        audio: samples of any shape, e.g. mono (S,); one gain applies to all of them.
        peak: the ceiling in full-scale units (1.0 = full scale).

    Returns:
        A new float32 array of the same shape, whose largest absolute sample is at most `peak`
        (exactly the largest float32 not above it when the clip was louder).

    Raises:
        UnisonoError: `peak` is not a finite number above 0, or the audio has NaN / Inf samples.
    """
    try:
        ceiling = float(peak)
    except (TypeError, ValueError):
        ceiling = float("nan")
    if not np.isfinite(ceiling) or ceiling <= 0.0:
        raise UnisonoError(f"the peak ceiling must be a finite number above 0 (full scale is "
                           f"1.0); got {peak!r}: give a ceiling such as {DEFAULT_PEAK}.")
    out = np.array(audio, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        raise UnisonoError(f"the audio has {bad} NaN or Inf samples, so its peak cannot be "
                           "limited: the model or input that produced it diverged or is corrupt; "
                           "check it (e.g. other sampling settings, another checkpoint or file).")
    loudest = float(np.max(np.abs(out))) if out.size else 0.0
    if loudest <= ceiling:
        return out
    # The ceiling as a float32 rounded down, so the result is never above `peak` even by one
    # ulp (0.99 rounds up in float32); compared as Python floats, since numpy would compare a
    # float32 with 0.99 in float32. The gain is float64 so the loudest sample lands on it exactly.
    target = float(np.float32(ceiling))
    if target > ceiling:
        target = float(np.nextafter(np.float32(ceiling), np.float32(0.0)))
    return (out.astype(np.float64) * (target / loudest)).astype(np.float32)


def fade(audio: np.ndarray, sample_rate: int, *, fade_in: float = 0.01, fade_out: float = 0.01) -> np.ndarray:
    """Raised-cosine fade in and out (seconds), never longer than half the clip each."""
    out = np.array(audio, dtype=np.float32, copy=True)
    n = out.shape[0]
    for seconds, at_start in ((fade_in, True), (fade_out, False)):
        k = min(int(round(seconds * sample_rate)), n // 2)
        if k <= 0:
            continue
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)).astype(np.float32)
        if at_start:
            out[:k] *= ramp
        else:
            out[n - k :] *= ramp[::-1]
    return out


def gain_for_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> float:
    """The factor g so that signal + g * noise has the requested SNR (RMS based)."""
    noise_level = rms(noise)
    if noise_level < 1e-9:
        raise UnisonoError("cannot mix at an SNR: the noise/background is silent")
    return rms(signal) / (noise_level * 10.0 ** (snr_db / 20.0))


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Mix noise under a signal at an RMS SNR. Lengths must match.

    Returns:
        (mix, scaled_noise) with mix == signal + scaled_noise exactly.
    """
    if signal.shape != noise.shape:
        raise UnisonoError(f"signal and noise lengths differ: {signal.shape} vs {noise.shape}")
    scaled = (noise * gain_for_snr(signal, noise, snr_db)).astype(np.float32)
    return (signal + scaled).astype(np.float32), scaled


def place(layer: np.ndarray, total_samples: int, offset: int) -> np.ndarray:
    """Put a layer into a zero track of `total_samples` starting at `offset`, truncating the end."""
    track = np.zeros(total_samples, dtype=np.float32)
    if offset >= total_samples or offset + layer.shape[0] <= 0:
        return track
    start = max(offset, 0)
    src = layer[start - offset : start - offset + total_samples - start]
    track[start : start + src.shape[0]] = src
    return track


@functools.lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = True) -> torch.Tensor:
    """(M, F) mel filterbank from librosa (HTK scale by default, Slaney norm)."""
    fb = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk)
    return torch.from_numpy(fb.astype(np.float32))


def stft_power(audio: torch.Tensor, *, n_fft: int, hop: int, center: bool = True) -> torch.Tensor:
    """Power spectrogram |STFT|^2 with a Hann window. (..., S) -> (..., F, T)."""
    window = torch.hann_window(n_fft, device=audio.device, dtype=audio.dtype)
    spec = torch.stft(audio, n_fft=n_fft, hop_length=hop, window=window, center=center,
                      return_complex=True)
    return spec.real.square() + spec.imag.square()


def log_mel(
    audio: np.ndarray | torch.Tensor,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    hop: int = 256,
    n_mels: int = 80,
    floor: float = 1e-5,
) -> torch.Tensor:
    """log10 mel power spectrogram. (..., S) -> (..., M, T). Defaults are Unisono's metric ones."""
    audio_t = torch.as_tensor(audio, dtype=torch.float32)
    power = stft_power(audio_t, n_fft=n_fft, hop=hop)
    mel = torch.matmul(mel_filterbank(sample_rate, n_fft, n_mels).to(power.device), power)
    return torch.log10(mel.clamp_min(floor))

"""Degradations and augmentations: reverberation, band limiting, pitch shift, time stretch.

All take and return float32 numpy (S,) arrays; randomness comes from an explicit Generator.
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.signal

from unisono.errors import UnisonoError


def lowpass(audio: np.ndarray, sample_rate: int, cutoff_hz: float, *, order: int = 12) -> np.ndarray:
    """Zero-phase Butterworth low-pass followed by an FFT brick wall above the cutoff.

    The brick wall guarantees no energy above the cutoff (super-resolution sources must have none);
    the Butterworth stage keeps the transition smooth so there is little ringing.
    """
    nyquist = sample_rate / 2
    if not 0 < cutoff_hz < nyquist:
        raise UnisonoError(f"low-pass cutoff must be in (0, {nyquist:.0f}) Hz; got {cutoff_hz}")
    sos = scipy.signal.butter(order, cutoff_hz, btype="low", fs=sample_rate, output="sos")
    filtered = scipy.signal.sosfiltfilt(sos, audio.astype(np.float64))
    spectrum = np.fft.rfft(filtered)
    freqs = np.fft.rfftfreq(filtered.shape[0], d=1.0 / sample_rate)
    spectrum[freqs > cutoff_hz] = 0.0
    return np.fft.irfft(spectrum, n=filtered.shape[0]).astype(np.float32)


def synthetic_rir(
    rng: np.random.Generator, sample_rate: int, *, rt60: float, direct_to_reverb_db: float = 3.0
) -> np.ndarray:
    """A room impulse response: a direct impulse, sparse early reflections, then decaying noise.

    The tail decays by 60 dB over `rt60` seconds (exponential envelope on Gaussian noise).
    """
    if rt60 <= 0:
        raise UnisonoError(f"rt60 must be positive; got {rt60}")
    length = int(sample_rate * min(rt60 * 1.2, 3.0)) + 1
    t = np.arange(length) / sample_rate
    decay = np.exp(-6.9078 * t / rt60)  # ln(1000) = 6.9078: -60 dB at rt60
    tail = rng.standard_normal(length) * decay
    tail[: int(0.0025 * sample_rate)] = 0.0  # pre-delay before the diffuse tail
    for _ in range(6):  # early reflections
        k = int(rng.uniform(0.002, 0.04) * sample_rate)
        if k < length:
            tail[k] += rng.uniform(-0.6, 0.6)
    tail *= 10.0 ** (-direct_to_reverb_db / 20.0) / (np.sqrt(np.sum(tail**2)) + 1e-12)
    rir = tail
    rir[0] = 1.0
    return rir.astype(np.float32)


def reverberate(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with an impulse response, keeping the input length."""
    return scipy.signal.fftconvolve(audio, rir, mode="full")[: audio.shape[0]].astype(np.float32)


def pitch_shift(audio: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Shift pitch keeping duration (librosa phase vocoder + soxr resampling)."""
    if semitones == 0:
        return audio.astype(np.float32)
    return librosa.effects.pitch_shift(audio.astype(np.float32), sr=sample_rate, n_steps=semitones,
                                       res_type="soxr_hq").astype(np.float32)


def time_stretch(audio: np.ndarray, rate: float) -> np.ndarray:
    """Change speed keeping pitch; rate > 1 is faster (shorter output)."""
    if rate <= 0:
        raise UnisonoError(f"time-stretch rate must be positive; got {rate}")
    if rate == 1:
        return audio.astype(np.float32)
    return librosa.effects.time_stretch(audio.astype(np.float32), rate=rate).astype(np.float32)

"""Reference-based audio metrics: log-mel L1, log-spectral distance (LSD) and SI-SDR.

Shapes: S samples. Every function takes a reference and an estimate as float numpy (S,) arrays of
equal length at one sample rate; metrics defined at 16 kHz resample both signals to 16 kHz first.

Definitions (fixed, so figures are comparable across runs and papers):
- log-mel L1: mean |log10 mel_ref - log10 mel_est| over 80 HTK mel bands x frames of the mel power
  spectrogram (n_fft 1024, hop 256 at 16 kHz, Hann window, centred frames, floor 1e-5).
- LSD (AudioSR): per frame, sqrt(mean over bins of (log10 P_ref - log10 P_est)^2), then the mean
  over frames; P is the STFT power (n_fft 2048, hop 512, Hann, centred, floor 1e-8).
- SI-SDR: both signals made zero-mean; the target is the projection of the estimate on the
  reference; 10 log10(|target|^2 / |estimate - target|^2), capped at +100 dB (identical signals).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from unisono.audio import log_mel, resample, stft_power
from unisono.errors import UnisonoError

METRIC_SAMPLE_RATE = 16000
SI_SDR_CAP_DB = 100.0


def _check_pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float32)
    estimate = np.asarray(estimate, dtype=np.float32)
    if reference.ndim != 1 or estimate.ndim != 1:
        raise UnisonoError(
            f"metrics take mono (samples,) arrays; got {reference.shape} and {estimate.shape}"
        )
    if reference.shape != estimate.shape:
        raise UnisonoError(
            f"reference and estimate lengths differ ({reference.shape[0]} vs {estimate.shape[0]}): "
            "trim or pad the estimate to the reference length first."
        )
    if reference.size == 0:
        raise UnisonoError("cannot compute a metric on empty audio")
    if not (np.all(np.isfinite(reference)) and np.all(np.isfinite(estimate))):
        raise UnisonoError("cannot compute a metric on audio containing NaN or Inf")
    return reference, estimate


def _at_metric_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    return resample(audio, sample_rate, METRIC_SAMPLE_RATE)


def log_mel_l1(reference: np.ndarray, estimate: np.ndarray, sample_rate: int = 16000) -> float:
    """Mean absolute difference of log10 mel power (80 HTK bands, n_fft 1024, hop 256 at 16 kHz).

    Args:
        reference: (S,) ground-truth audio.
        estimate: (S,) audio to score.
        sample_rate: rate of both signals; they are resampled to 16 kHz.

    Returns:
        The L1 distance (0 for identical signals).
    """
    reference, estimate = _check_pair(reference, estimate)
    ref = log_mel(_at_metric_rate(reference, sample_rate), METRIC_SAMPLE_RATE)
    est = log_mel(_at_metric_rate(estimate, sample_rate), METRIC_SAMPLE_RATE)
    return float((ref - est).abs().mean())


def log_spectral_distance(
    reference: np.ndarray, estimate: np.ndarray, sample_rate: int = 16000
) -> float:
    """AudioSR log-spectral distance: frame-wise RMS of the log10 power difference, frame mean.

    Args:
        reference: (S,) ground-truth audio.
        estimate: (S,) audio to score.
        sample_rate: rate of both signals; they are resampled to 16 kHz.

    Returns:
        LSD (0 for identical signals).
    """
    reference, estimate = _check_pair(reference, estimate)
    ref_power = stft_power(
        torch.from_numpy(_at_metric_rate(reference, sample_rate)).double(), n_fft=2048, hop=512
    )
    est_power = stft_power(
        torch.from_numpy(_at_metric_rate(estimate, sample_rate)).double(), n_fft=2048, hop=512
    )
    diff = torch.log10(ref_power.clamp_min(1e-8)) - torch.log10(est_power.clamp_min(1e-8))
    per_frame = diff.square().mean(dim=0).sqrt()  # (F, T) -> (T,)
    return float(per_frame.mean())


def si_sdr(reference: np.ndarray, estimate: np.ndarray, sample_rate: int = 16000) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (zero-mean), capped at +100 dB.

    Args:
        reference: (S,) ground-truth audio.
        estimate: (S,) audio to score.
        sample_rate: unused (SI-SDR is rate-independent); accepted for a uniform signature.

    Returns:
        SI-SDR in dB; +100 for an exact (scaled) copy, and -100 floor for a silent reference or
        estimate orthogonal to it.
    """
    del sample_rate
    reference, estimate = _check_pair(reference, estimate)
    ref = reference.astype(np.float64) - reference.mean(dtype=np.float64)
    est = estimate.astype(np.float64) - estimate.mean(dtype=np.float64)
    ref_energy = float(np.dot(ref, ref))
    if ref_energy <= 0.0:
        return -SI_SDR_CAP_DB
    target = (np.dot(est, ref) / ref_energy) * ref
    noise = est - target
    target_energy = float(np.dot(target, target))
    noise_energy = float(np.dot(noise, noise))
    if noise_energy <= target_energy * 10.0 ** (-SI_SDR_CAP_DB / 10.0):
        return SI_SDR_CAP_DB
    if target_energy <= noise_energy * 10.0 ** (-SI_SDR_CAP_DB / 10.0):
        return -SI_SDR_CAP_DB
    return float(10.0 * np.log10(target_energy / noise_energy))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "log_mel_l1": log_mel_l1,
    "lsd": log_spectral_distance,
    "si_sdr": si_sdr,
}

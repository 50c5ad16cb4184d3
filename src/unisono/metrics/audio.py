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
- change energy (`change_energy`, for transformations: a source, its target and an output): on
  the metric mel power grid, the cells the transformation should change are those where source
  and target differ by at least 6 dB (removal cells: the source is louder, addition cells: the
  target is), the cells it should keep those where they differ by at most 1 dB; cells more than
  60 dB below the loudest cell of source and target are left out. removed_db / added_db:
  10 log10 of the output's summed power over the source's on removal / addition cells (the
  target itself scores its own change, the untouched source 0); kept_db: mean |dB difference|
  of output and target on the kept cells (0 for the target); kept_level_db: 10 log10 of the
  output's summed power over the target's on the kept cells, signed (0 for the target). An
  output that only turns the whole clip down by g "removes" 20 log10 g dB and shows the same
  kept_level_db: removed_db - kept_level_db is what a removal took beyond the clip's level.
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


CHANGE_DB = 6.0
KEPT_DB = 1.0
CHANGE_FLOOR_DB = 60.0


def _mel_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mel power in dB (80 HTK bands, n_fft 1024, hop 256 at 16 kHz), float64 (M, T)."""
    log10_power = log_mel(_at_metric_rate(audio, sample_rate), METRIC_SAMPLE_RATE, floor=1e-12)
    return 10.0 * log10_power.double().numpy()


def _power_ratio_db(estimate_db: np.ndarray, source_db: np.ndarray, cells: np.ndarray) -> float:
    if not cells.any():
        return float("nan")
    estimate = np.sum(10.0 ** (estimate_db[cells] / 10.0))
    source = np.sum(10.0 ** (source_db[cells] / 10.0))
    return float(10.0 * np.log10(max(estimate, 1e-30) / source))


def change_energy(source: np.ndarray, target: np.ndarray, estimate: np.ndarray,
                  sample_rate: int = 16000) -> dict[str, float]:
    """How far an output makes a transformation's change and keeps the rest (module docstring).

    Args:
        source: (S,) the transformation's input.
        target: (S,) its reference output.
        estimate: (S,) the output to score.
        sample_rate: rate of all three; they are resampled to 16 kHz.

    Returns:
        {"removed_db", "added_db", "kept_db", "kept_level_db"}; NaN where the pair has no such
        cells (a clean addition has no removal cells; where an event and its background cancel
        in a mixture, a few cells do).
    """
    target, estimate = _check_pair(target, estimate)
    _, source = _check_pair(target, source)
    source_db, target_db, estimate_db = (_mel_db(x, sample_rate) for x in (source, target, estimate))
    audible = np.maximum(source_db, target_db) >= max(source_db.max(), target_db.max()) - CHANGE_FLOOR_DB
    change = source_db - target_db
    kept = audible & (np.abs(change) <= KEPT_DB)
    floor = target_db.max() - 2 * CHANGE_FLOOR_DB  # an output far below the target saturates here
    kept_db = np.abs(np.maximum(estimate_db, floor) - target_db)[kept]
    return {
        "removed_db": _power_ratio_db(estimate_db, source_db, audible & (change >= CHANGE_DB)),
        "added_db": _power_ratio_db(estimate_db, source_db, audible & (change <= -CHANGE_DB)),
        "kept_db": float(kept_db.mean()) if kept_db.size else float("nan"),
        "kept_level_db": _power_ratio_db(estimate_db, target_db, kept),
    }


METRICS: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "log_mel_l1": log_mel_l1,
    "lsd": log_spectral_distance,
    "si_sdr": si_sdr,
}

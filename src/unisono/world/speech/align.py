"""Phone timing for engines that do not report it: DTW against an espeak-ng rendition of the text.

espeak-ng says the same text with known phone spans (its PHONEME events). Both renditions are cut
to their speech region (energy above the peak minus 35 dB), described by MFCCs normalised per
utterance (10 ms hop), and aligned by dynamic time warping; each reference phone boundary is
carried through the warping path into the target. Leading and trailing pauses come from the
target's own energy, so the first and last phone boundaries agree with where speech starts and
stops. Audio is float32 mono (S,).
"""

from __future__ import annotations

import librosa
import numpy as np

from unisono.audio import resample
from unisono.world.speech.base import (
    ONSET_THRESHOLD_DB,
    SILENCE,
    Phone,
    merge_phones,
    speech_bounds,
)
from unisono.world.speech.espeak import synthesize_espeak

_RATE = 16000
_HOP = 160            # 10 ms
_MIN_PHONE = 0.015    # seconds: the shortest phone the alignment may produce


def _features(audio: np.ndarray) -> np.ndarray:
    """(F, 20) normalised MFCC + delta features of a 16 kHz signal."""
    mfcc = librosa.feature.mfcc(y=audio, sr=_RATE, n_mfcc=20, n_fft=512, hop_length=_HOP,
                                win_length=400, n_mels=40, center=True)
    mfcc = mfcc[1:]  # c0 is loudness, which differs between engines for reasons other than phones
    delta = librosa.feature.delta(mfcc, width=5, mode="nearest") if mfcc.shape[1] >= 5 else 0 * mfcc
    features = np.concatenate([mfcc, delta], axis=0)
    features = (features - features.mean(axis=1, keepdims=True)) / (features.std(axis=1, keepdims=True) + 1e-6)
    return features


def _warp(reference_times: np.ndarray, path: np.ndarray, n_target: int) -> np.ndarray:
    """Map times (s) in the reference to the target through a DTW path of (ref frame, target frame)."""
    path = path[np.argsort(path[:, 0], kind="stable")]
    ref_frames, target_frames = path[:, 0], path[:, 1]
    # For each reference frame, the mean target frame aligned to it; then interpolate in between.
    unique, first = np.unique(ref_frames, return_index=True)
    sums = np.add.reduceat(target_frames.astype(np.float64), first)
    counts = np.diff(np.append(first, len(target_frames)))
    mean_target = sums / counts
    frames = np.interp(reference_times * _RATE / _HOP, unique, mean_target)
    return np.clip(frames, 0, n_target) * _HOP / _RATE


def align_phones(audio: np.ndarray, sample_rate: int, reference: np.ndarray, reference_rate: int,
                 reference_phones: list[Phone]) -> list[Phone]:
    """Phone spans for ``audio`` by aligning it to a ``reference`` rendition with known phones.

    Args:
        audio: (S,) speech to time.
        sample_rate: its rate.
        reference: (R,) the same text spoken by espeak-ng.
        reference_rate: its rate.
        reference_phones: contiguous phones of ``reference``.

    Returns:
        Contiguous phones covering ``audio``, with "_" before and after the speech.
    """
    target = resample(audio, sample_rate, _RATE)
    ref = resample(reference, reference_rate, _RATE)
    total = audio.shape[0] / sample_rate
    t_first, t_last = speech_bounds(target, _RATE, threshold_db=ONSET_THRESHOLD_DB)
    spoken = [p for p in reference_phones if p.symbol != SILENCE]
    if not spoken:
        return [Phone(SILENCE, 0.0, total)]
    # Reference speech region: from its first to its last spoken phone (exact, from espeak-ng).
    r_start, r_stop = spoken[0].start, spoken[-1].end
    ref_cut = ref[int(r_start * _RATE): int(r_stop * _RATE)]
    target_cut = target[t_first:t_last]
    ref_features, target_features = _features(ref_cut), _features(target_cut)
    _, path = librosa.sequence.dtw(X=ref_features, Y=target_features, metric="euclidean",
                                   step_sizes_sigma=np.array([[1, 1], [1, 2], [2, 1]]),
                                   weights_add=np.zeros(3), weights_mul=np.array([1.0, 1.0, 1.0]))
    inner = [p for p in reference_phones if p.end > r_start and p.start < r_stop]
    boundaries = np.array([max(p.start, r_start) - r_start for p in inner[1:]])
    mapped = _warp(boundaries, path, target_features.shape[1])
    offset, length = t_first / _RATE, (t_last - t_first) / _RATE
    # Keep boundaries ordered with a minimum phone length, inside the speech region.
    edges = np.concatenate([[0.0], np.clip(mapped, 0.0, length), [length]])
    count = len(edges) - 1
    min_phone = min(_MIN_PHONE, length / max(count, 1))
    for index in range(1, count):
        edges[index] = max(edges[index], edges[index - 1] + min_phone)
    for index in range(count - 1, 0, -1):
        edges[index] = min(edges[index], edges[index + 1] - min_phone)
    phones = [Phone(SILENCE, 0.0, offset)]
    phones += [Phone(p.symbol, offset + edges[i], offset + edges[i + 1]) for i, p in enumerate(inner)]
    phones.append(Phone(SILENCE, offset + length, total))
    return merge_phones(phones, total)


def align_text(audio: np.ndarray, sample_rate: int, text: str, *, accent_voice: str = "en-us") -> list[Phone]:
    """Phone spans for ``audio`` saying ``text``, via an espeak-ng reference in ``accent_voice``."""
    reference, reference_rate, reference_phones = synthesize_espeak(text, accent_voice)
    return align_phones(audio, sample_rate, reference, reference_rate, reference_phones)

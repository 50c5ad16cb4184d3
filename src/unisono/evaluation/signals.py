"""Signal analysis behind the oracle checks: musical key, pitch-class profiles, event onsets.

These read what the synthetic world knows exactly (a clip's notes and key, the times of its
events) back out of audio, so a generated clip can be checked against them:

- `estimate_key`: Krumhansl-Kessler key finding (correlation of a clip's mean chroma with the 24
  rotated major / minor key profiles, Krumhansl 1990); `pitch_class` parses "C#", "Bb", ...
- `note_profile`: the duration-weighted pitch-class histogram of a list of notes.
- `activity_onsets`: where sound starts after silence: 10 ms frames whose RMS is within
  `threshold_db` of the loudest frame are active; the start of every active run (after closing
  gaps shorter than `min_gap`) is an onset.

Shapes: S samples, F frames, 12 pitch classes (C = 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unisono.audio import resample
from unisono.data.manifest import Note
from unisono.errors import UnisonoError

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
KEY_MODES = ("major", "minor")
CHROMA_RATE = 16000
CHROMA_FFT = 4096  # 3.9 Hz bins: semitones apart from about 65 Hz (C2) up
ONSET_FRAME_SECONDS = 0.01


def pitch_class(name: str) -> int:
    """The pitch class (C = 0) of a note name: a letter and any number of '#' / 'b' ("Bb" -> 10).

    Raises:
        UnisonoError: not a note name.
    """
    text = name.strip()
    if not text or text[0].upper() not in _LETTERS or any(c not in "#b" for c in text[1:]):
        raise UnisonoError(f"{name!r} is not a note name (a letter A-G and optional # or b).")
    return (_LETTERS[text[0].upper()] + text[1:].count("#") - text[1:].count("b")) % 12


def chroma_profile(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """(12,) mean chroma of a clip (librosa STFT chroma at 16 kHz, tuning fixed at A440), summing
    to 1; all zeros for a silent clip."""
    import librosa

    signal = resample(np.asarray(audio, dtype=np.float32), sample_rate, CHROMA_RATE)
    if signal.shape[0] < CHROMA_FFT:
        signal = np.pad(signal, (0, CHROMA_FFT - signal.shape[0]))
    power = np.abs(librosa.stft(signal, n_fft=CHROMA_FFT, hop_length=CHROMA_FFT // 4)) ** 2
    # Weight frames by their energy: the chroma of a near-silent frame is noise.
    chroma = librosa.feature.chroma_stft(S=power, sr=CHROMA_RATE, tuning=0.0, norm=None)
    profile = chroma.sum(axis=1)
    total = float(profile.sum())
    return profile / total if total > 0 else np.zeros(12)


def estimate_key(audio: np.ndarray, sample_rate: int) -> tuple[int, str] | None:
    """The most likely key (tonic pitch class, "major" | "minor"), or None for a silent clip."""
    return key_of_profile(chroma_profile(audio, sample_rate))


def key_of_profile(profile: np.ndarray) -> tuple[int, str] | None:
    """The key whose rotated Krumhansl-Kessler profile correlates best with a (12,) profile."""
    profile = np.asarray(profile, dtype=np.float64)
    if profile.shape != (12,) or not np.any(profile > 0) or np.ptp(profile) == 0:
        return None
    best, key = -np.inf, None
    for mode, template in zip(KEY_MODES, (MAJOR_PROFILE, MINOR_PROFILE), strict=True):
        for tonic in range(12):
            score = float(np.corrcoef(profile, np.roll(template, tonic))[0, 1])
            if score > best + 1e-12:
                best, key = score, (tonic, mode)
    return key


def note_profile(notes: Sequence[Note]) -> np.ndarray:
    """(12,) duration-weighted pitch-class histogram of notes, summing to 1 (zeros if none)."""
    profile = np.zeros(12)
    for note in notes:
        profile[int(note.pitch) % 12] += max(float(note.offset) - float(note.onset), 0.0)
    total = float(profile.sum())
    return profile / total if total > 0 else profile


def frame_levels_db(audio: np.ndarray, sample_rate: int,
                    frame_seconds: float = ONSET_FRAME_SECONDS) -> np.ndarray:
    """(F,) RMS level in dB of consecutive frames (the last partial frame dropped)."""
    size = max(1, int(round(frame_seconds * sample_rate)))
    count = len(audio) // size
    frames = np.asarray(audio[:count * size], dtype=np.float64).reshape(count, size)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def activity_onsets(audio: np.ndarray, sample_rate: int, *, threshold_db: float = -35.0,
                    min_gap: float = 0.05) -> list[float]:
    """Seconds at which sound starts: the first frame of each run of active frames.

    Args:
        audio: (S,) clip.
        sample_rate: its rate.
        threshold_db: a frame is active when its level is at most this far below the loudest.
        min_gap: silences shorter than this do not split a run.

    Returns:
        Onsets in seconds, ascending; empty for a silent clip.
    """
    levels = frame_levels_db(audio, sample_rate)
    if levels.size == 0 or levels.max() <= -190.0:
        return []
    active = levels >= levels.max() + threshold_db
    gap_frames = int(round(min_gap / ONSET_FRAME_SECONDS))
    onsets, last_active = [], -gap_frames - 1
    for frame in np.flatnonzero(active):
        if frame - last_active > gap_frames:
            onsets.append(frame * ONSET_FRAME_SECONDS)
        last_active = frame
    return [float(x) for x in onsets]


def onset_errors(detected: Sequence[float], expected: Sequence[float], *, penalty: float
                 ) -> list[float]:
    """For every expected onset, the distance (s) to the nearest detected one; `penalty` when
    nothing was detected."""
    if not detected:
        return [float(penalty)] * len(expected)
    found = np.asarray(detected, dtype=np.float64)
    return [float(np.min(np.abs(found - onset))) for onset in expected]

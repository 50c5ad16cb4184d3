"""Audio file I/O and validation.

Everything is float32 numpy. Shapes: mono audio is (S,) with S samples; multi-channel audio as
read from disk is (S, K) with K channels before downmixing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io.wavfile
import soundfile as sf
import soxr

from unisono.errors import UnisonoError

SUPPORTED_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average the channels of a (S, K) array; a (S,) array passes through."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise UnisonoError(f"audio must be (samples,) or (samples, channels); got shape {audio.shape}")
    return audio.mean(axis=1, dtype=np.float32)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr (very high quality); a no-op when the rates match."""
    if orig_sr <= 0 or target_sr <= 0:
        raise UnisonoError(f"sample rates must be positive; got {orig_sr} -> {target_sr}")
    if orig_sr == target_sr or audio.shape[0] == 0:
        return np.asarray(audio, dtype=np.float32)
    return soxr.resample(audio, orig_sr, target_sr, quality="VHQ").astype(np.float32, copy=False)


def validate_audio(
    audio: np.ndarray,
    sample_rate: int,
    *,
    name: str = "audio",
    min_duration: float = 0.0,
    max_duration: float | None = None,
    allow_silent: bool = True,
    silence_threshold_db: float = -80.0,
) -> np.ndarray:
    """Check audio is finite, non-empty, of sensible length and (optionally) not silent.

    Returns the audio unchanged; raises UnisonoError naming the problem and the fix.
    """
    if audio.size == 0:
        raise UnisonoError(f"{name} is empty (0 samples): give a file that contains audio.")
    if not np.all(np.isfinite(audio)):
        bad = int(np.size(audio) - np.count_nonzero(np.isfinite(audio)))
        raise UnisonoError(
            f"{name} contains {bad} NaN or Inf samples: the file is corrupt or was written from "
            "a diverged model; re-export it."
        )
    duration = audio.shape[0] / sample_rate
    if duration < min_duration:
        raise UnisonoError(
            f"{name} is too short ({duration:.3f} s < {min_duration:.3f} s): give a longer clip."
        )
    if max_duration is not None and duration > max_duration:
        raise UnisonoError(
            f"{name} is too long ({duration:.1f} s > {max_duration:.1f} s): cut it into shorter "
            "clips or raise the limit."
        )
    if not allow_silent:
        level = 20.0 * np.log10(float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) + 1e-12)
        if level < silence_threshold_db:
            raise UnisonoError(
                f"{name} is silent (RMS {level:.0f} dBFS < {silence_threshold_db:.0f} dBFS): "
                "give a clip with audible content."
            )
    return audio


def load_audio(
    path: str | Path,
    sample_rate: int | None = None,
    *,
    mono: bool = True,
    min_duration: float = 0.0,
    max_duration: float | None = None,
    allow_silent: bool = True,
) -> tuple[np.ndarray, int]:
    """Load wav / flac / ogg / mp3 as float32, optionally resampled and downmixed.

    Args:
        path: the audio file.
        sample_rate: resample to this rate; None keeps the file's rate.
        mono: average channels into shape (S,); otherwise (S, K).
        min_duration, max_duration, allow_silent: see `validate_audio`.

    Returns:
        (audio, sample_rate).
    """
    path = Path(path)
    if not path.exists():
        raise UnisonoError(f"audio file not found: {path}")
    if path.is_dir():
        raise UnisonoError(f"expected an audio file but got a directory: {path}")
    if path.stat().st_size == 0:
        raise UnisonoError(f"audio file is empty (0 bytes): {path}")
    try:
        audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise UnisonoError(
            f"cannot read audio file {path}: {err}. Supported formats: "
            f"{', '.join(SUPPORTED_SUFFIXES)}; convert it (e.g. with ffmpeg) or replace it."
        ) from err
    audio = to_mono(audio) if mono else audio
    if sample_rate is not None and sample_rate != file_sr:
        audio = resample(audio, file_sr, sample_rate)
        file_sr = sample_rate
    validate_audio(
        audio,
        file_sr,
        name=str(path),
        min_duration=min_duration,
        max_duration=max_duration,
        allow_silent=allow_silent,
    )
    return audio, file_sr


def save_audio(path: str | Path, audio: np.ndarray, sample_rate: int, *, subtype: str = "FLOAT") -> Path:
    """Write audio; the format follows the suffix (wav by default as 32-bit float, byte-deterministic).

    Clipping is the caller's choice: float wav keeps values beyond [-1, 1] exactly.
    """
    path = Path(path)
    audio = np.asarray(audio, dtype=np.float32)
    if not np.all(np.isfinite(audio)):
        raise UnisonoError(f"refusing to write NaN/Inf audio to {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".wav", "") and subtype == "FLOAT":
        # scipy writes no timestamped PEAK chunk (libsndfile does), so equal audio gives equal bytes
        scipy.io.wavfile.write(str(path), sample_rate, audio)
    elif suffix in (".wav", ""):
        sf.write(str(path), audio, sample_rate, subtype=subtype, format="WAV")
    elif suffix in (".flac", ".ogg"):
        sf.write(str(path), np.clip(audio, -1.0, 1.0), sample_rate)
    else:
        raise UnisonoError(f"cannot write {suffix!r} files; use .wav, .flac or .ogg: {path}")
    return path

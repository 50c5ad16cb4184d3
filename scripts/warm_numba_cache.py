"""Rebuild librosa's numba cache in one process, so parallel processes only read it.

librosa compiles its kernels with `numba.guvectorize(cache=True)`, which writes two cache files per
kernel (the kernel and its gufunc wrapper) with separate renames. Processes that compile the same
kernel at once (world renders with --workers, loader workers, metric jobs side by side) can leave
a pair from two different processes, and the next process that loads it crashes with a
segmentation fault (numba issue 10128; librosa issues 1928 and 1998). It happened here on
2026-12-06: `librosa.yin` crashed every process until the cache was rebuilt.

This script deletes librosa's cache files and compiles, in this one process, every librosa kernel
Unisono and its tests use. `scripts/setup.sh` runs it. Run it by hand after a crash in a librosa
function: `python scripts/warm_numba_cache.py`.
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np


def clear_cache() -> int:
    """Delete librosa's numba cache files; returns how many were deleted."""
    removed = 0
    for pattern in ("*.nbi", "*.nbc"):
        for path in Path(librosa.__file__).parent.rglob(f"__pycache__/{pattern}"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def warm() -> None:
    """Call the librosa functions that compile numba kernels, in float32 and float64."""
    rate = 16000
    for dtype in (np.float32, np.float64):
        tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(dtype)
        librosa.yin(tone, fmin=150, fmax=600, sr=rate, frame_length=1024)
        librosa.effects.pitch_shift(tone, sr=rate, n_steps=2)
        librosa.effects.time_stretch(tone, rate=1.1)
        features = np.abs(librosa.stft(tone, n_fft=512))
        librosa.sequence.dtw(X=features[:, :20], Y=features[:, :25], metric="euclidean")
        librosa.util.localmax(features[:, 0])
        librosa.util.localmin(features[:, 0])


def main() -> None:
    removed = clear_cache()
    warm()
    print(f"[numba] librosa's cache rebuilt in one process ({removed} stale files removed)")


if __name__ == "__main__":
    main()

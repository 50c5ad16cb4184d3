"""flite voices through the ``flite`` command line; mono float32 audio (S,) at the voice's rate.

flite exposes no phone timing on its command line; ``align`` adds it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from unisono.world.speech.base import read_wav, require_program, run_program


def synthesize_flite(text: str, voice: str, *, speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak with a built-in flite voice (``kal16``, ``awb``, ``rms``, ``slt``)."""
    program = require_program("flite", "flite")
    with tempfile.TemporaryDirectory(prefix="unisono-flite-") as folder:
        text_path, wav_path = Path(folder) / "text.txt", Path(folder) / "out.wav"
        text_path.write_text(text, encoding="utf-8")
        run_program([program, "-voice", voice, "--setf", f"duration_stretch={1.0 / speed:.4f}",
                     "-f", str(text_path), "-o", str(wav_path)], what=f"flite voice {voice}")
        return read_wav(wav_path)

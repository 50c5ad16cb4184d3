"""festival voices through ``text2wave``; mono float32 audio (S,) at the voice's rate.

Phone timing comes from ``align`` (festival's own segments use a different phone set).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from unisono.world.speech.base import read_wav, require_program, run_program


def synthesize_festival(text: str, voice: str, *, speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak with a festival voice (e.g. ``kal_diphone``, ``cmu_us_slt_arctic_hts``)."""
    program = require_program("text2wave", "festival")
    with tempfile.TemporaryDirectory(prefix="unisono-festival-") as folder:
        text_path, wav_path = Path(folder) / "text.txt", Path(folder) / "out.wav"
        text_path.write_text(text, encoding="latin-1", errors="replace")
        setup = f"(begin (voice_{voice}) (Parameter.set 'Duration_Stretch {1.0 / speed:.4f}))"
        run_program([program, "-eval", setup, str(text_path), "-o", str(wav_path)],
                    what=f"festival voice {voice} (install festvox packages if it is missing)")
        return read_wav(wav_path)

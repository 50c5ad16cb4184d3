"""piper (VITS, ONNX) voices shipped as Python packages; mono float32 audio (S,) at 22,050 Hz.

Noise scales are zero so the same text always gives the same samples (ONNX Runtime's random
nodes cannot be seeded). Phone timing comes from ``align``.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from unisono.errors import UnisonoError


@functools.cache
def _piper_voice(model: str):  # noqa: ANN202 (piper type imported lazily)
    try:
        from piper import PiperVoice
    except ImportError as error:
        raise UnisonoError("piper is not installed: `pip install piper-tts`.") from error
    package, _, name = model.partition(":")
    try:
        path = resources.files(package).joinpath("data", f"{name}.onnx")
    except ModuleNotFoundError as error:
        raise UnisonoError(f"piper voice package {package!r} missing: `pip install "
                           f"{package.replace('_', '-')}`.") from error
    with resources.as_file(path) as onnx:
        return PiperVoice.load(str(onnx))


def synthesize_piper(text: str, model: str, *, speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak with a packaged piper model, named ``"<python package>:<model name>"``."""
    from piper import SynthesisConfig

    voice = _piper_voice(model)
    config = SynthesisConfig(length_scale=1.0 / speed, noise_scale=0.0, noise_w_scale=0.0)
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
    if not chunks:
        raise UnisonoError(f"piper produced no audio for {text!r}: give English words.")
    return np.concatenate(chunks).astype(np.float32), int(voice.config.sample_rate)

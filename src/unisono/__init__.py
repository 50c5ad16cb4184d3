"""Unisono: one flow-matching model for audio generation, editing, restoration and captioning."""

from typing import Any

from unisono.errors import UnisonoError

__version__ = "0.1.0"
__all__ = ["GeneratedAudio", "Unisono", "UnisonoError", "__version__"]


def __getattr__(name: str) -> Any:
    # The API pulls in torch and transformers: import it on first use, not with the package.
    if name in ("Unisono", "GeneratedAudio"):
        from unisono import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'unisono' has no attribute {name!r}")

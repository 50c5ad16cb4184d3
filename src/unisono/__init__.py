"""Unisono: one flow-matching model for audio generation, editing, restoration and captioning."""

from unisono.errors import UnisonoError

__version__ = "0.1.0"
__all__ = ["UnisonoError", "__version__"]

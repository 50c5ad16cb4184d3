"""The Unisono audio codec: presets, networks, losses and the `Codec` wrapper."""

from unisono.models.codec.config import (
    CODEC_PRESETS,
    CodecConfig,
    FrameCodecConfig,
    WaveformCodecConfig,
    codec_preset,
)
from unisono.models.codec.model import Codec, CodecOutput

__all__ = [
    "CODEC_PRESETS",
    "Codec",
    "CodecConfig",
    "CodecOutput",
    "FrameCodecConfig",
    "WaveformCodecConfig",
    "codec_preset",
]

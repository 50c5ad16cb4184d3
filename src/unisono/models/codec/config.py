"""Codec configuration: one typed dataclass per component, and the named presets.

Derived sizes (latent frame rate, frames for a number of samples) are properties here, so every
caller counts latent frames the same way: frames = ceil(samples / hop).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal

from unisono.errors import UnisonoError


@dataclass
class FrameCodecConfig:
    """The CPU frame-rate design: STFT features -> ConvNeXt-1D -> latent -> ConvNeXt-1D -> iSTFT.

    Attributes:
        n_fft: STFT size of the encoder analysis and of the decoder's inverse STFT.
        width: channels of the ConvNeXt blocks.
        encoder_blocks: ConvNeXt blocks in the encoder.
        decoder_blocks: ConvNeXt blocks in the decoder.
        kernel_size: depthwise kernel (frames) of each ConvNeXt block.
        mlp_ratio: hidden size of each block's MLP, as a multiple of `width`.
        max_log_magnitude: clamp on the predicted log magnitude (exp overflow guard).
        phase: "direct" predicts each frame's phase (Vocos); "cumulative" predicts each bin's
            instantaneous-frequency deviation from the bin centre and integrates it over frames
            (phase-vocoder style), so sustained partials stay coherent from frame to frame.
        decoder_upsample: U, decoder frames per latent frame. With U > 1 the decoder's last
            `upsample_blocks` run at U times the latent rate and its inverse STFT uses hop / U
            and `decoder_n_fft` (finer time resolution; the encoder is unchanged).
        decoder_n_fft: inverse-STFT size of the decoder; default n_fft / U.
        upsample_blocks: ConvNeXt blocks at the decoder's fine rate (when U > 1).
    """

    n_fft: int = 1280
    width: int = 256
    encoder_blocks: int = 4
    decoder_blocks: int = 8
    kernel_size: int = 7
    mlp_ratio: float = 3.0
    max_log_magnitude: float = 6.0
    phase: Literal["direct", "cumulative"] = "direct"
    decoder_upsample: int = 1
    decoder_n_fft: int | None = None
    upsample_blocks: int = 2

    @property
    def synthesis_n_fft(self) -> int:
        """n_fft of the decoder's inverse STFT."""
        return self.decoder_n_fft or self.n_fft // self.decoder_upsample


DECODER_ONLY_SETTINGS = ("decoder_blocks", "decoder_upsample", "decoder_n_fft", "upsample_blocks",
                         "phase", "max_log_magnitude")
"""`FrameCodecConfig` fields that change the decoder only (a new decoder keeps the latents)."""


@dataclass
class WaveformCodecConfig:
    """The paper-size waveform VAE (Stable Audio Open "Oobleck" style).

    Attributes:
        channels: base channel count; stage k uses channels * channel_mults[k].
        channel_mults: channel multiplier before each downsampling stage (len == len(strides) + 1).
        strides: downsampling factors; their product must equal the hop.
        dilations: dilations of the residual units in each stage.
    """

    channels: int = 128
    channel_mults: tuple[int, ...] = (1, 2, 4, 8, 16)
    strides: tuple[int, ...] = (2, 4, 6, 10)
    dilations: tuple[int, ...] = (1, 3, 9)


@dataclass
class CodecConfig:
    """A codec: architecture, rates, latent size and the latent scale.

    Attributes:
        architecture: "frame" (CPU, iSTFT decoder) or "waveform" (strided convolutions).
        sample_rate: audio rate in Hz; other inputs are resampled.
        hop: samples per latent frame.
        latent_channels: C, channels of the latent.
        latent_scale: multiplies the bottleneck mean so that latents have about unit variance;
            estimated from data after training (1.0 before).
        frame: settings of the frame-rate design.
        waveform: settings of the waveform design.
    """

    architecture: Literal["frame", "waveform"] = "frame"
    sample_rate: int = 16000
    hop: int = 320
    latent_channels: int = 32
    latent_scale: float = 1.0
    frame: FrameCodecConfig = field(default_factory=FrameCodecConfig)
    waveform: WaveformCodecConfig = field(default_factory=WaveformCodecConfig)

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.hop <= 0 or self.latent_channels <= 0:
            raise UnisonoError("codec sample_rate, hop and latent_channels must be positive")
        if self.latent_scale <= 0:
            raise UnisonoError(f"codec latent_scale must be positive; got {self.latent_scale}")
        if self.architecture == "frame":
            extra = self.frame.n_fft - self.hop
            if extra < 0 or extra % 2:
                raise UnisonoError(
                    f"frame codec n_fft ({self.frame.n_fft}) must be >= hop ({self.hop}) and "
                    "differ from it by an even number: set frame.n_fft e.g. to 4 * hop."
                )
            upsample = self.frame.decoder_upsample
            if upsample < 1 or self.hop % upsample:
                raise UnisonoError(
                    f"frame.decoder_upsample ({upsample}) must be >= 1 and divide the hop "
                    f"({self.hop}): e.g. 2 for a decoder hop of {self.hop // 2}."
                )
            fine_hop = self.hop // upsample
            extra = self.frame.synthesis_n_fft - fine_hop
            if extra < 0 or extra % 2:
                raise UnisonoError(
                    f"frame.decoder_n_fft ({self.frame.synthesis_n_fft}) must be >= the decoder "
                    f"hop ({fine_hop}) and differ from it by an even number: e.g. {4 * fine_hop}."
                )
            if self.frame.phase == "cumulative" and upsample > 1:
                raise UnisonoError("frame.phase 'cumulative' supports decoder_upsample 1 only")
        else:
            if math.prod(self.waveform.strides) != self.hop:
                raise UnisonoError(
                    f"waveform codec strides {self.waveform.strides} multiply to "
                    f"{math.prod(self.waveform.strides)}, not the hop {self.hop}: make them agree."
                )
            if len(self.waveform.channel_mults) != len(self.waveform.strides) + 1:
                raise UnisonoError("waveform.channel_mults needs one more entry than strides")

    def encoder_settings(self) -> dict:
        """The config as a dict without the frame decoder's own settings: everything the latents
        of a codec depend on besides its encoder and bottleneck weights."""
        settings = dataclasses.asdict(self)
        for name in DECODER_ONLY_SETTINGS:
            settings["frame"].pop(name)
        return settings

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.sample_rate / self.hop

    def latent_frames(self, num_samples: int) -> int:
        """Latent frames for a clip of `num_samples`: ceil(samples / hop)."""
        return -(-num_samples // self.hop)


# "tiny" is the architecture of the first shipped codec (configs/codec/tiny.yaml); the shipped
# codec keeps its encoder and has the finer decoder of "tiny-up2" (configs/codec/tiny_decoder_up2.yaml).
CODEC_PRESETS: dict[str, CodecConfig] = {
    "tiny": CodecConfig(),
    "tiny-up2": CodecConfig(frame=FrameCodecConfig(decoder_upsample=2, decoder_n_fft=640,
                                                   upsample_blocks=3)),
    "waveform": CodecConfig(
        architecture="waveform",
        sample_rate=24000,
        hop=480,
        latent_channels=128,
        waveform=WaveformCodecConfig(),
    ),
}


def codec_preset(name: str) -> CodecConfig:
    """A fresh copy of a named preset (see `CODEC_PRESETS`)."""
    if name not in CODEC_PRESETS:
        raise UnisonoError(
            f"unknown codec preset {name!r}; choose one of {', '.join(CODEC_PRESETS)}"
        )
    return copy.deepcopy(CODEC_PRESETS[name])

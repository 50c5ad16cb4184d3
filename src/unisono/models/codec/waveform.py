"""The paper-size waveform VAE (Stable Audio Open "Oobleck" / UniFlow style), for GPU users.

Shapes: B batch, S samples (a multiple of the hop), T = S / hop latent frames, C latent channels.

Encoder: conv -> [residual units (Snake, dilated conv) -> Snake -> strided conv] per stride ->
Snake -> conv to 2C. Decoder mirrors it with transposed convolutions. Every convolution is
weight-normalised. Strided convolutions pad so that each stage divides (or multiplies) the length
exactly by its stride, so S samples give S / hop frames and back.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm

from unisono.models.codec.config import CodecConfig


class Snake1d(nn.Module):
    """Snake activation x + sin^2(alpha x) / alpha with a learned alpha per channel."""

    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.sin(self.alpha * x).square() / (self.alpha + 1e-9)


def _conv(in_ch: int, out_ch: int, kernel: int, *, dilation: int = 1) -> nn.Module:
    return weight_norm(
        nn.Conv1d(in_ch, out_ch, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
    )


class ResidualUnit(nn.Module):
    """Snake -> dilated conv (k 7) -> Snake -> conv (k 1), added to the input."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.body = nn.Sequential(
            Snake1d(channels),
            _conv(channels, channels, 7, dilation=dilation),
            Snake1d(channels),
            _conv(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Downsample(nn.Module):
    """Strided conv (kernel 2 * stride) padded so the length divides exactly by the stride."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.left, self.right = stride // 2, stride - stride // 2
        self.conv = weight_norm(nn.Conv1d(in_ch, out_ch, 2 * stride, stride=stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.left, self.right)))


class Upsample(nn.Module):
    """Transposed conv (kernel 2 * stride) cropped so the length multiplies by the stride."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.left, self.right = stride // 2, stride - stride // 2
        self.conv = weight_norm(nn.ConvTranspose1d(in_ch, out_ch, 2 * stride, stride=stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y[..., self.left : y.shape[-1] - self.right]


class WaveformEncoder(nn.Module):
    """(B, S) audio -> (B, 2C, S / hop) bottleneck parameters."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        wave = config.waveform
        widths = [wave.channels * m for m in wave.channel_mults]
        layers: list[nn.Module] = [_conv(1, widths[0], 7)]
        for stage, stride in enumerate(wave.strides):
            layers += [ResidualUnit(widths[stage], d) for d in wave.dilations]
            layers += [Snake1d(widths[stage]), Downsample(widths[stage], widths[stage + 1], stride)]
        layers += [Snake1d(widths[-1]), _conv(widths[-1], 2 * config.latent_channels, 3)]
        self.layers = nn.Sequential(*layers)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.layers(audio[:, None])


class WaveformDecoder(nn.Module):
    """(B, C, T) latent -> (B, T * hop) audio."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        wave = config.waveform
        widths = [wave.channels * m for m in wave.channel_mults]
        layers: list[nn.Module] = [_conv(config.latent_channels, widths[-1], 7)]
        for stage in reversed(range(len(wave.strides))):
            layers += [
                Snake1d(widths[stage + 1]),
                Upsample(widths[stage + 1], widths[stage], wave.strides[stage]),
            ]
            layers += [ResidualUnit(widths[stage], d) for d in wave.dilations]
        layers += [Snake1d(widths[0]), _conv(widths[0], 1, 7)]
        self.layers = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.layers(latent)[:, 0]

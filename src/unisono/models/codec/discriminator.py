"""Optional multi-resolution STFT discriminator (EnCodec / DAC style) for adversarial training.

Shapes: B batch, S samples; each sub-discriminator sees the (B, 2, T, F) real / imaginary STFT and
returns (B, 1, T', F') logits plus its intermediate feature maps for feature matching.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class STFTDiscriminator(nn.Module):
    """Conv2d stack over one STFT resolution."""

    def __init__(self, n_fft: int, hop: int, channels: int = 32):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.layers = nn.ModuleList(
            [
                weight_norm(nn.Conv2d(2, channels, (3, 9), padding=(1, 4))),
                weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4))),
                weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4))),
                weight_norm(nn.Conv2d(channels, channels, (3, 3), padding=(1, 1))),
            ]
        )
        self.out = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(
            audio, self.n_fft, self.hop, window=self.window, center=True, return_complex=True
        )
        h = torch.view_as_real(spec).permute(0, 3, 2, 1)  # (B, 2, T, F)
        features = []
        for layer in self.layers:
            h = nn.functional.leaky_relu(layer(h), 0.1)
            features.append(h)
        return self.out(h), features


class MultiResolutionSTFTDiscriminator(nn.Module):
    """Several `STFTDiscriminator`s at different resolutions."""

    def __init__(
        self,
        resolutions: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512)),
        channels: int = 32,
    ):
        super().__init__()
        self.discriminators = nn.ModuleList(
            STFTDiscriminator(n, h, channels) for n, h in resolutions
        )

    def forward(self, audio: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        """(B, S) -> (logits per resolution, feature maps per resolution)."""
        logits, features = [], []
        for discriminator in self.discriminators:
            logit, feats = discriminator(audio)
            logits.append(logit)
            features.append(feats)
        return logits, features

"""The KL (diagonal Gaussian) bottleneck between codec encoder and decoder.

Shapes: B batch, C latent channels, T latent frames. The encoder emits (B, 2C, T): a mean and a
pre-softplus scale per channel (Stable Audio Open's VAE bottleneck).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class BottleneckOutput:
    """What the bottleneck gives the decoder and the loss.

    Attributes:
        latent: (B, C, T) a sample (training) or the mean (inference), unscaled.
        mean: (B, C, T) posterior mean.
        kl: scalar KL divergence to N(0, I), summed over channels, averaged over batch and frames.
    """

    latent: torch.Tensor
    mean: torch.Tensor
    kl: torch.Tensor


class DiagonalGaussianBottleneck(nn.Module):
    """Split encoder output into mean and std, sample with an explicit generator, compute the KL."""

    def forward(
        self, params: torch.Tensor, *, sample: bool, generator: torch.Generator | None = None
    ) -> BottleneckOutput:
        """(B, 2C, T) -> BottleneckOutput; `sample` draws mean + std * noise using `generator`."""
        mean, scale = params.chunk(2, dim=1)
        std = F.softplus(scale) + 1e-4
        var = std.square()
        kl = 0.5 * (mean.square() + var - var.log() - 1.0).sum(dim=1).mean()
        if sample:
            noise = torch.randn(
                mean.shape, generator=generator, dtype=mean.dtype, device=mean.device
            )
            latent = mean + std * noise
        else:
            latent = mean
        return BottleneckOutput(latent=latent, mean=mean, kl=kl)

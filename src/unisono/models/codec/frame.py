"""The CPU frame-rate codec: STFT features -> ConvNeXt-1D encoder; ConvNeXt-1D -> iSTFT decoder.

Shapes: B batch, S samples (a multiple of the hop), F = n_fft / 2 + 1 STFT bins, T = S / hop latent
frames, D block width, C latent channels.

Both ends use "same" framing: the audio is zero-padded by (n_fft - hop) / 2 on each side, so frame t
is centred on samples [t * hop, (t + 1) * hop) and S samples give exactly S / hop frames. The
decoder predicts a log magnitude and a phase direction (cos, sin up to a common scale) per bin
(Vocos style), builds the complex spectrum, and overlap-adds windowed inverse FFTs, normalised by
the summed squared window, then trims the same padding.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from unisono.models.codec.config import CodecConfig


class ConvNeXtBlock1d(nn.Module):
    """Depthwise conv -> LayerNorm -> MLP with a layer scale, residual. (B, D, T) -> (B, D, T)."""

    def __init__(self, width: int, *, kernel_size: int, mlp_ratio: float, layer_scale: float):
        super().__init__()
        self.depthwise = nn.Conv1d(
            width, width, kernel_size, padding=kernel_size // 2, groups=width
        )
        self.norm = nn.LayerNorm(width, eps=1e-6)
        hidden = int(width * mlp_ratio)
        self.expand = nn.Linear(width, hidden)
        self.project = nn.Linear(hidden, width)
        self.gamma = nn.Parameter(torch.full((width,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.depthwise(x).transpose(1, 2)
        h = self.project(F.gelu(self.expand(self.norm(h))))
        return x + (self.gamma * h).transpose(1, 2)


class ConvNeXtStack(nn.Module):
    """Input projection, LayerNorm, ConvNeXt blocks, LayerNorm, output Linear over channels."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        width: int,
        blocks: int,
        kernel_size: int,
        mlp_ratio: float,
        in_kernel: int,
    ):
        super().__init__()
        self.embed = nn.Conv1d(in_channels, width, in_kernel, padding=in_kernel // 2)
        self.norm_in = nn.LayerNorm(width, eps=1e-6)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock1d(
                width,
                kernel_size=kernel_size,
                mlp_ratio=mlp_ratio,
                layer_scale=1.0 / max(blocks, 1),
            )
            for _ in range(blocks)
        )
        self.norm_out = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in, T) -> (B, out, T)."""
        h = self.norm_in(self.embed(x).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm_out(h.transpose(1, 2))).transpose(1, 2)


class FrameEncoder(nn.Module):
    """(B, S) audio -> (B, 2C, T) bottleneck parameters from log-magnitude + compressed STFT."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        frame = config.frame
        self.n_fft, self.hop = frame.n_fft, config.hop
        self.pad = (frame.n_fft - config.hop) // 2
        bins = frame.n_fft // 2 + 1
        self.register_buffer("window", torch.hann_window(frame.n_fft), persistent=False)
        self.stack = ConvNeXtStack(
            3 * bins,
            2 * config.latent_channels,
            width=frame.width,
            blocks=frame.encoder_blocks,
            kernel_size=frame.kernel_size,
            mlp_ratio=frame.mlp_ratio,
            in_kernel=1,
        )

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B, 3F, T): log magnitude, and real / imaginary parts at magnitude^0.3."""
        padded = F.pad(audio, (self.pad, self.pad))
        spec = torch.stft(
            padded, self.n_fft, self.hop, window=self.window, center=False, return_complex=True
        )
        magnitude = spec.abs()
        compressed = spec * (magnitude + 1e-7).pow(-0.7)
        return torch.cat([torch.log(magnitude + 1e-5), compressed.real, compressed.imag], dim=1)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.stack(self.features(audio))


class FrameDecoder(nn.Module):
    """(B, C, T) latent -> (B, T * hop) audio through log-magnitude + phase and an inverse STFT.

    With `decoder_upsample` U > 1, the latent-rate stack ends in U * width channels that are
    unfolded into U frames per latent frame, and `upsample_blocks` ConvNeXt blocks at that finer
    rate predict the spectrum of an inverse STFT with hop / U (sharper onsets than one 80 ms
    window per 20 ms latent frame allows).
    """

    def __init__(self, config: CodecConfig):
        super().__init__()
        frame = config.frame
        self.upsample = frame.decoder_upsample
        self.n_fft, self.hop = frame.synthesis_n_fft, config.hop // self.upsample
        self.pad = (self.n_fft - self.hop) // 2
        self.bins = self.n_fft // 2 + 1
        self.max_log_magnitude = frame.max_log_magnitude
        self.phase_mode = frame.phase
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        # phase advance of a partial at bin k's centre over one hop, 2 pi k hop / n_fft, mod 2 pi
        advance = 2 * torch.pi * ((torch.arange(self.bins) * self.hop) % self.n_fft) / self.n_fft
        self.register_buffer("bin_advance", advance.to(torch.float64), persistent=False)
        block_settings = dict(kernel_size=frame.kernel_size, mlp_ratio=frame.mlp_ratio)
        spectrum_channels = 3 * self.bins
        self.stack = ConvNeXtStack(
            config.latent_channels,
            spectrum_channels if self.upsample == 1 else self.upsample * frame.width,
            width=frame.width, blocks=frame.decoder_blocks, in_kernel=7, **block_settings,
        )
        if self.upsample > 1:
            self.fine = ConvNeXtStack(
                frame.width, spectrum_channels, width=frame.width,
                blocks=frame.upsample_blocks, in_kernel=3, **block_settings,
            )

    def features(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, 3F, T * U): log magnitude, x, y per decoder frame."""
        h = self.stack(latent)
        if self.upsample == 1:
            return h
        batch, _, frames = h.shape
        h = h.view(batch, self.upsample, -1, frames).permute(0, 2, 3, 1)
        return self.fine(h.reshape(batch, -1, frames * self.upsample))

    def frame_params(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, C, T) -> log magnitude, x, y, each (B, F, T * U); (x, y) is a phase direction."""
        log_magnitude, x, y = self.features(latent).split(self.bins, dim=1)
        return log_magnitude, x, y

    def spectrum_from_params(
        self, log_magnitude: torch.Tensor, x: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """(B, F, T) parameters -> (B, F, T) complex spectrum.

        Direct mode: the phase is the angle of (x, y), a continuous map, unlike a raw angle, which
        cannot follow a phase around the circle without a jump. Cumulative mode: the angle of
        (x, y) is the frame-to-frame phase advance beyond the bin centre's, summed over frames
        from 0 at the first frame (in float64, wrapped, so long clips keep their precision).
        """
        magnitude = torch.exp(log_magnitude.clamp(max=self.max_log_magnitude))
        if self.phase_mode == "direct":
            scale = magnitude * torch.rsqrt(x.square() + y.square() + 1e-8)
            return torch.complex(scale * x, scale * y)
        deviation = torch.atan2(y, x + 1e-7).to(torch.float64)
        phase = torch.cumsum(deviation + self.bin_advance[:, None], dim=-1)
        phase = torch.remainder(phase, 2 * torch.pi).to(magnitude.dtype)
        return torch.polar(magnitude, phase)

    def spectrum(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, F, T * U) complex spectrum."""
        return self.spectrum_from_params(*self.frame_params(latent))

    def istft(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, F, N) -> (B, N * hop): windowed overlap-add with "same" padding trimmed."""
        frames = spec.shape[-1]
        segments = torch.fft.irfft(spec, n=self.n_fft, dim=1) * self.window[None, :, None]
        length = (frames - 1) * self.hop + self.n_fft
        audio = F.fold(
            segments, output_size=(1, length), kernel_size=(1, self.n_fft), stride=(1, self.hop)
        )[:, 0, 0]
        envelope = F.fold(
            self.window.square()[None, :, None].expand(1, -1, frames),
            output_size=(1, length),
            kernel_size=(1, self.n_fft),
            stride=(1, self.hop),
        )[:, 0, 0]
        end = length - self.pad
        return audio[:, self.pad : end] / envelope[:, self.pad : end].clamp_min(1e-8)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.istft(self.spectrum(latent))

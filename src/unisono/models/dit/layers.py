"""Building blocks of the MM-DiT: norms, rotary positions, time embedding, gated AdaLN, the
Conv-MLP input embedder and the joint attention over several token streams.

Shapes: B batch, T audio frames, N text tokens, S all tokens of a joint attention, D width,
H heads, E head width, C latent channels.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class RMSNorm(nn.Module):
    """Root-mean-square norm with a learned gain (QK-norm)."""

    def __init__(self, width: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """AdaLN: x (1 + scale) + shift for x (B, T, D) normalised beforehand, shift / scale (B, D)."""
    return torch.addcmul(shift.unsqueeze(1), x, 1.0 + scale.unsqueeze(1))


def gated(update: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """UniFlow-Audio eq. 12: the residual branch scaled by tanh of its AdaLN gate (B, D).

    The gate's projection starts at zero, so every block starts as the identity (DiT adaLN-Zero)
    and tanh keeps the scale bounded.
    """
    return torch.tanh(gate).unsqueeze(1) * update


def gated_residual(tokens: torch.Tensor, update: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """tokens + `gated(update, gate)` in one fused multiply-add (tokens, update (B, T, D))."""
    return torch.addcmul(tokens, torch.tanh(gate).unsqueeze(1), update)


class TimestepEmbedding(nn.Module):
    """Sinusoidal features of the flow time t in [0, 1], then an MLP: (B,) -> (B, D)."""

    def __init__(self, width: int, frequencies: int = 256) -> None:
        super().__init__()
        self.frequencies = frequencies
        self.mlp = nn.Sequential(nn.Linear(frequencies, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, flow_time: torch.Tensor) -> torch.Tensor:
        half = self.frequencies // 2
        exponent = torch.arange(half, device=flow_time.device, dtype=torch.float32) / half
        freqs = torch.exp(-math.log(10000.0) * exponent)
        # Scale t to [0, 1000] so the fastest sinusoid still separates nearby solver times.
        angles = 1000.0 * flow_time.float().unsqueeze(1) * freqs.unsqueeze(0)
        features = torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)
        return self.mlp(features.to(self.mlp[0].weight.dtype))


class RotaryEmbedding(nn.Module):
    """Rotary positions (RoPE) for audio tokens 0..T-1, cached per length."""

    def __init__(self, head_width: int, base: float) -> None:
        super().__init__()
        inverse = 1.0 / (base ** (torch.arange(0, head_width, 2, dtype=torch.float32) / head_width))
        self.register_buffer("inverse_frequency", inverse, persistent=False)
        self._cache: tuple[int, torch.device, torch.dtype, torch.Tensor, torch.Tensor] | None = None

    def cos_sin(self, length: int, device: torch.device, dtype: torch.dtype):
        """cos and sin tables, each (T, E)."""
        if self._cache is not None and self._cache[:3] == (length, device, dtype):
            return self._cache[3], self._cache[4]
        positions = torch.arange(length, device=device, dtype=torch.float32)
        angles = torch.outer(positions, self.inverse_frequency.to(device))
        angles = torch.cat([angles, angles], dim=-1)
        cos, sin = angles.cos().to(dtype), angles.sin().to(dtype)
        self._cache = (length, device, dtype, cos, sin)
        return cos, sin


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x (..., T, E) by position (rotate-half convention); queries and keys may come
    stacked on a leading axis, so one call rotates both."""
    first, second = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-second, first], dim=-1) * sin


class ConvMLPEmbedder(nn.Module):
    """Input embedder of [z_t | z_s | m] (B, 2C + 1, T) -> tokens (B, T / p, D).

    Frames are grouped into patches of p (channels of a patch stacked, DiT's patchify on the time
    axis), then a centred convolution over patches, GELU and a pointwise projection. The first
    layer's weights reading z_s and m start at zero (UNISON 3.4), so a fresh model ignores the
    source and the task tag until training teaches it otherwise. Padding frames are zeroed before
    patching and padding patches before each convolution, so they cannot reach real frames.
    """

    def __init__(self, latent_channels: int, width: int, kernel: int, patch: int = 1) -> None:
        super().__init__()
        self.latent_channels = latent_channels
        self.patch = patch
        self.conv = nn.Conv1d((2 * latent_channels + 1) * patch, width, kernel, padding=kernel // 2)
        self.project = nn.Conv1d(width, width, 1)

    def zero_source_weights(self) -> None:
        """Zero the weights from z_s and m (input channels C..2C of every patch position)."""
        with torch.no_grad():
            self.conv.weight[:, self.latent_channels * self.patch :].zero_()

    def forward(self, inputs: torch.Tensor, frame_mask: torch.Tensor | None) -> torch.Tensor:
        if frame_mask is not None:
            inputs = inputs * frame_mask.unsqueeze(1).to(inputs.dtype)
        patches = patchify(inputs, self.patch)
        keep = None if frame_mask is None else patch_mask(frame_mask, self.patch).unsqueeze(1)
        if keep is not None:
            patches = patches * keep.to(inputs.dtype)
        hidden = F.gelu(self.conv(patches))
        if keep is not None:
            hidden = hidden * keep.to(inputs.dtype)
        return self.project(hidden).transpose(1, 2)


def patchify(frames: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, X, T) -> (B, X p, ceil(T / p)); channel x of frame j in a patch lands at x p + j.
    The last patch is zero-padded."""
    if patch == 1:
        return frames
    batch, channels, length = frames.shape
    frames = F.pad(frames, (0, -length % patch))
    return frames.view(batch, channels, -1, patch).permute(0, 1, 3, 2).reshape(batch, channels * patch, -1)


def unpatchify(tokens: torch.Tensor, patch: int, length: int) -> torch.Tensor:
    """Inverse of `patchify` for (B, P, X p) token outputs -> (B, X, T) cut to `length` frames."""
    batch, patches, stacked = tokens.shape
    frames = tokens.view(batch, patches, stacked // patch, patch).permute(0, 2, 1, 3)
    return frames.reshape(batch, stacked // patch, patches * patch)[..., :length]


def patch_mask(frame_mask: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, T) frame mask -> (B, ceil(T / p)): a patch is real when any of its frames is."""
    if patch == 1:
        return frame_mask
    padded = F.pad(frame_mask, (0, -frame_mask.shape[1] % patch), value=False)
    return padded.view(frame_mask.shape[0], -1, patch).any(dim=-1)


def joint_key_mask(masks: list[torch.Tensor | None], lengths: list[int]) -> torch.Tensor | None:
    """The key mask of a joint attention (B, 1, 1, S) from per-stream masks (B, S_j) or None (all
    real), in stream order; None when every stream is all real. Every block of a forward pass
    attends over the same streams, so this is built once per pass."""
    present = [m for m in masks if m is not None]
    if not present:
        return None
    batch, device = present[0].shape[0], present[0].device
    parts = [
        torch.ones(batch, length, dtype=torch.bool, device=device) if m is None else m
        for m, length in zip(masks, lengths, strict=True)
    ]
    return torch.cat(parts, dim=1)[:, None, None, :]


def joint_attention(
    queries: list[torch.Tensor],
    keys: list[torch.Tensor],
    values: list[torch.Tensor],
    key_mask: torch.Tensor | None,
) -> list[torch.Tensor]:
    """One attention from the updated streams' queries over every stream's keys and values.

    Args:
        queries: per updated stream (B, H, T_i, E).
        keys, values: per stream, updated or not (B, H, S_j, E).
        key_mask: `joint_key_mask` of the streams of `keys` (B, 1, 1, S), or None (all real).

    Returns:
        Per query stream the attended values (B, T_i, H * E).
    """
    query = queries[0] if len(queries) == 1 else torch.cat(queries, dim=2)
    key = torch.cat(keys, dim=2)
    value = torch.cat(values, dim=2)
    attended = F.scaled_dot_product_attention(query, key, value, attn_mask=key_mask)
    batch, heads, _, head_width = attended.shape
    attended = attended.transpose(1, 2).reshape(batch, -1, heads * head_width)
    if len(queries) == 1:
        return [attended]
    sizes = [q.shape[2] for q in queries]
    return list(attended.split(sizes, dim=1))

"""Time-aligned (TA) content: phonemes for aligned TTS, notes + lyrics for singing (UniFlow-Audio).

Symbols (phoneme ids, with a note pitch per symbol for singing) are embedded and mixed by a small
convolution stack; a duration head predicts each symbol's length in latent frames (log domain,
FastSpeech2 style, with its gradients into the shared layers scaled by 0.1: UniFlow-Audio D.2); the
features are then expanded to frames by the durations (ground truth in training, predicted at
inference) and the DiT adds them in every block.

Shapes: B batch, P symbols, T latent frames, Dc content width.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from unisono.errors import UnisonoError

PITCH_NONE = 0  # pitch id 0 = no note; MIDI pitch p has id p + 1
PITCH_IDS = 129
DURATION_GRADIENT_SCALE = 0.1


class ContentEncoder(nn.Module):
    """Symbol and pitch ids (B, P) -> symbol features (B, P, Dc) and log durations (B, P)."""

    def __init__(self, *, vocab: int, width: int, layers: int, kernel: int = 5) -> None:
        super().__init__()
        self.vocab = vocab
        self.symbols = nn.Embedding(vocab, width, padding_idx=0)
        self.pitches = nn.Embedding(PITCH_IDS, width, padding_idx=PITCH_NONE)
        self.convs = nn.ModuleList(
            nn.Conv1d(width, width, kernel, padding=kernel // 2) for _ in range(layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(layers))
        self.duration = nn.Sequential(
            nn.Conv1d(width, width, 3, padding=1), nn.GELU(), nn.Conv1d(width, 1, 1)
        )

    def forward(
        self, symbols: torch.Tensor, pitch: torch.Tensor, symbol_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (B, P, Dc) and predicted log frames per symbol (B, P)."""
        if symbols.max() >= self.vocab or symbols.min() < 0:
            raise UnisonoError(
                f"content symbol ids must lie in [0, {self.vocab}); got "
                f"{int(symbols.min())}..{int(symbols.max())}: use the model's symbol table."
            )
        keep = symbol_mask.unsqueeze(-1).to(torch.float32)
        hidden = (self.symbols(symbols) + self.pitches(pitch)) * keep
        for conv, norm in zip(self.convs, self.norms, strict=True):
            update = conv(hidden.transpose(1, 2)).transpose(1, 2)
            hidden = norm(hidden + F.gelu(update)) * keep
        # UniFlow-Audio D.2: x~ = l x + (1 - l) sg(x), so duration errors barely move the encoder.
        scaled = DURATION_GRADIENT_SCALE * hidden + (1 - DURATION_GRADIENT_SCALE) * hidden.detach()
        log_frames = self.duration(scaled.transpose(1, 2)).squeeze(1)
        return hidden, log_frames


def frames_from_log(log_frames: torch.Tensor, symbol_mask: torch.Tensor) -> torch.Tensor:
    """Integer frames per symbol (B, P) from predicted log frames; at least 1 per real symbol."""
    frames = torch.round(torch.exp(log_frames)).clamp(min=1).to(torch.long)
    return frames * symbol_mask.to(torch.long)


def expand_to_frames(features: torch.Tensor, frames: torch.Tensor, total: int) -> torch.Tensor:
    """Repeat each symbol's features for its frames: (B, P, Dc), (B, P) -> (B, T, Dc).

    Frames past a row's last symbol are zero; symbols past `total` frames are cut.
    """
    batch, symbols, width = features.shape
    ends = frames.cumsum(dim=1)  # (B, P)
    positions = torch.arange(total, device=features.device).expand(batch, total)
    # Index of the symbol covering each frame: the number of symbol ends at or before it.
    index = torch.searchsorted(ends.contiguous(), positions.contiguous(), right=True)
    inside = index < symbols
    gathered = torch.gather(
        features, 1, index.clamp(max=symbols - 1).unsqueeze(-1).expand(batch, total, width)
    )
    return gathered * inside.unsqueeze(-1).to(features.dtype)

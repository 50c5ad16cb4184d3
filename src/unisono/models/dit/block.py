"""The double-stream MM-DiT block (UNISON 3.4 with UniFlow-Audio's dual fusion).

Streams:
- audio tokens h_k: own AdaLN norms, fused QKV, QK-norm, RoPE, output projection and MLP, with
  tanh-gated residuals driven by the flow time; the time-aligned content is added after attention.
- instruction tokens: block k receives a fresh W_k E^(i_k) from the frozen text encoder (UNISON
  eq. 2); it has its own norm, key / value projection and key norm, and takes part in the joint
  attention as keys and values only: it is not carried to the next block (so it needs no queries
  and no MLP, and its keys / values can be computed once per request and reused at every solver
  step).
- caption tokens (optional, for captioning): a persistent stream with the audio stream's full
  set of layers, updated block to block; optionally a convolution over caption positions after
  each update (`caption_conv`), so that each token sees its neighbours' states.

Shapes: B batch, T audio frames, N instruction tokens, K caption tokens, D width, H heads,
E head width, Dt text-encoder width.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from unisono.models.dit.config import DiTConfig
from unisono.models.dit.layers import (
    RMSNorm,
    apply_rotary,
    gated_residual,
    joint_attention,
    modulate,
)

# Six AdaLN vectors per updated stream: shift / scale / gate for attention and for the MLP.
MODULATION_CHUNKS = 6


@dataclass
class AttentionInputs:
    """Queries, keys and values of one stream (B, H, T_i, E) and its key mask (B, T_i) or None.
    A stream that only informs the others (the instruction) has no queries."""

    query: torch.Tensor | None
    key: torch.Tensor
    value: torch.Tensor
    mask: torch.Tensor | None


class UpdatedStream(nn.Module):
    """The layers of a stream that is carried from block to block (audio, captions)."""

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        width = config.width
        self.heads = config.heads
        self.attention_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.query_norm = RMSNorm(config.head_width)
        self.key_norm = RMSNorm(config.head_width)
        self.output = nn.Linear(width, width)
        self.mlp_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(width, config.mlp_width),
            nn.GELU(),  # exact (erf): 6x faster than the tanh form on AVX2 CPUs
            nn.Linear(config.mlp_width, width),
        )
        # Per-block offsets of the shared AdaLN projection (PixArt-alpha's adaLN-single).
        self.modulation_offset = nn.Parameter(torch.zeros(MODULATION_CHUNKS, width))

    def attention_inputs(
        self,
        tokens: torch.Tensor,
        modulation: torch.Tensor,
        mask: torch.Tensor | None,
        rotary: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> AttentionInputs:
        """Normalise, modulate and project tokens (B, T, D) to heads."""
        shift, scale = modulation[0], modulation[1]
        hidden = modulate(self.attention_norm(tokens), shift, scale)
        qkv = _split_heads(self.qkv(hidden), self.heads)  # (3, B, H, T, E)
        # QK-norm and RoPE on queries and keys stacked: one kernel each instead of two.
        gains = torch.stack([self.query_norm.weight, self.key_norm.weight])
        query_key = F.rms_norm(qkv[:2], (qkv.shape[-1],), eps=self.query_norm.eps)
        query_key = query_key * gains[:, None, None, None, :]
        if rotary is not None:
            query_key = apply_rotary(query_key, *rotary)
        return AttentionInputs(query_key[0], query_key[1], qkv[2], mask)

    def chunks(self, shared: torch.Tensor) -> list[torch.Tensor]:
        """This block's six AdaLN vectors (B, D) from the shared projection (B, 6, D)."""
        return list((shared + self.modulation_offset).unbind(dim=1))

    def finish(
        self,
        tokens: torch.Tensor,
        attended: torch.Tensor,
        modulation: list[torch.Tensor],
        added: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Gated attention residual, optional additive input, gated MLP residual."""
        tokens = gated_residual(tokens, self.output(attended), modulation[2])
        if added is not None:
            tokens = tokens + added
        hidden = modulate(self.mlp_norm(tokens), modulation[3], modulation[4])
        return gated_residual(tokens, self.mlp(hidden), modulation[5])


class InstructionStream(nn.Module):
    """Block k's view of the instruction: W_k E^(i_k), normalised, projected to keys and values.

    The instruction is not carried to the next block, so nothing reads an attention output for
    its tokens: it takes part in the joint attention as keys and values only (no queries).
    """

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.projection = nn.Linear(config.text_width, config.width)  # UNISON eq. 2: W_k
        self.norm = nn.LayerNorm(config.width, eps=1e-6)
        self.key_value = nn.Linear(config.width, 2 * config.width)
        self.key_norm = RMSNorm(config.head_width)

    def forward(self, hidden_state: torch.Tensor, mask: torch.Tensor) -> AttentionInputs:
        """hidden_state (B, N, Dt) of the chosen encoder layer, mask (B, N)."""
        projected = self.norm(self.projection(hidden_state))
        batch, length, _ = projected.shape
        key, value = (
            self.key_value(projected).view(batch, length, 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        )
        return AttentionInputs(None, self.key_norm(key), value, mask)


class DoubleStreamBlock(nn.Module):
    """One MM-DiT block: joint attention of audio, instruction (and caption) tokens."""

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.audio = UpdatedStream(config)
        self.instruction = InstructionStream(config)
        # Time-aligned content enters every block after attention (UniFlow-Audio eq. 4).
        self.content = nn.Linear(config.width, config.width)
        self.caption = UpdatedStream(config) if config.caption_stream else None
        self.caption_conv = (
            nn.Conv1d(config.width, config.width, config.caption_conv,
                      padding=config.caption_conv // 2)
            if config.caption_stream and config.caption_conv else None
        )

    def forward(
        self,
        audio: torch.Tensor,
        *,
        modulation: torch.Tensor,
        instruction: AttentionInputs,
        key_mask: torch.Tensor | None,
        rotary: tuple[torch.Tensor, torch.Tensor],
        content: torch.Tensor,
        caption: torch.Tensor | None = None,
        caption_modulation: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Advance the audio (B, T, D) and caption (B, K, D) streams by one block.

        Args:
            audio: audio tokens.
            modulation: the shared AdaLN projection for the audio stream (B, 6, D).
            instruction: this block's instruction keys / values (from `InstructionStream`).
            key_mask: the joint key mask over audio, instruction and caption tokens, in that
                order (`layers.joint_key_mask`, (B, 1, 1, S)), or None when all are real.
            rotary: RoPE cos / sin tables (T, E).
            content: embedded time-aligned content (B, T, D) (a learned dummy when absent).
            caption: caption tokens, when the caption stream is in use.
            caption_modulation: the shared AdaLN projection for the caption stream (B, 6, D).
        """
        audio_mod = self.audio.chunks(modulation)
        streams = [self.audio.attention_inputs(audio, audio_mod, None, rotary), instruction]
        caption_mod = None
        if caption is not None:
            if self.caption is None or caption_modulation is None:
                raise ValueError("caption tokens given to a block built without a caption stream")
            caption_mod = self.caption.chunks(caption_modulation)
            streams.append(self.caption.attention_inputs(caption, caption_mod, None, None))
        attended = joint_attention(
            [s.query for s in streams if s.query is not None],
            [s.key for s in streams],
            [s.value for s in streams],
            key_mask,
        )
        audio = self.audio.finish(audio, attended[0], audio_mod, added=self.content(content))
        if caption is not None and self.caption is not None and caption_mod is not None:
            caption = self.caption.finish(caption, attended[1], caption_mod)
            if self.caption_conv is not None:
                caption = caption + self.caption_conv(caption.transpose(1, 2)).transpose(1, 2)
        return audio, caption


def _split_heads(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, T, 3 D) -> (3, B, H, T, E): queries, keys, values."""
    batch, length, triple = qkv.shape
    return qkv.view(batch, length, 3, heads, triple // (3 * heads)).permute(2, 0, 3, 1, 4)

"""Generator backbone configuration and its named presets.

`tiny` trains on two CPU cores; `small` is UniFlow-Audio's small size (~200M); `base` is UNISON's
D24 (24 blocks, width 1024, 8 heads). Sizes that follow from others are properties.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

from unisono.errors import UnisonoError


@dataclass
class DiTConfig:
    """The MM-DiT generator backbone.

    Attributes:
        latent_channels: C, the codec's latent channels (target, source and output).
        width: D, the hidden width of every stream.
        depth: number of double-stream blocks.
        heads: attention heads (width must divide evenly).
        mlp_ratio: hidden size of the audio MLP as a multiple of width.
        text_width: hidden width of the frozen text encoder.
        text_layers: L, the text encoder's transformer layers (hidden states L + 1 with embeddings).
        fusion: "deep" (UNISON eq. 2: block k reads layer i_k), "penultimate" or "last".
        content_dim: width of the time-aligned content features (phonemes, notes) per frame.
        content_vocab: symbols of the content encoder (phonemes + specials); 0 builds none.
        content_layers: convolution layers of the content encoder.
        patch_size: p, latent frames per audio token (DiT's patchify along time): p = 2 halves
            the tokens and so the cost per second of audio.
        embed_kernel: kernel (tokens) of the Conv-MLP input embedder.
        rope_base: base of the rotary position frequencies on audio tokens.
        caption_stream: build the persistent caption-token stream in every block (captioning).
        caption_vocab: vocabulary of caption tokens: the text encoder's tokenizer.
        caption_length: K, caption tokens per answer (the end token and padding included).
        answer_length: tokens of a question's answer (0: caption_length). Answers are a word or
            two: padding them to a caption's length spends most of the masked-diffusion loss on
            padding (the loss averages over every position), so questions get fewer positions.
        caption_mask_token: the tokenizer's [MASK] id (masked diffusion's absorbing state).
        caption_end_token: the id that ends a caption (the tokenizer's [SEP]).
        caption_pad_token: the id that fills a caption after its end (the tokenizer's [PAD]).
        caption_conv: kernel (positions) of a convolution over the caption tokens at the end of
            every block, added to the stream and starting at zero (0: none). Attention among
            caption tokens has only the learned absolute position embeddings to tell neighbours
            apart; the convolution hands each position its neighbours' states directly.
        duration_hidden: hidden width of the clip-duration predictor.
        max_duration: longest clip (seconds) the duration predictor may return.
    """

    latent_channels: int = 32
    width: int = 256
    depth: int = 6
    heads: int = 4
    mlp_ratio: float = 3.0
    text_width: int = 384
    text_layers: int = 6
    fusion: Literal["deep", "penultimate", "last"] = "deep"
    content_dim: int = 256
    content_vocab: int = 0
    content_layers: int = 3
    patch_size: int = 1
    embed_kernel: int = 3
    rope_base: float = 10000.0
    caption_stream: bool = False
    caption_vocab: int = 0
    caption_length: int = 48
    answer_length: int = 0
    caption_mask_token: int = 103
    caption_end_token: int = 102
    caption_pad_token: int = 0
    caption_conv: int = 0
    duration_hidden: int = 256
    max_duration: float = 30.0

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise UnisonoError(
                f"width {self.width} is not divisible by heads {self.heads}; pick e.g. "
                f"heads={max(1, self.width // 64)}."
            )
        if (self.width // self.heads) % 2:
            raise UnisonoError(
                f"head width {self.width // self.heads} must be even for rotary positions."
            )
        if self.depth < 1:
            raise UnisonoError(f"depth must be at least 1, got {self.depth}.")
        if self.embed_kernel % 2 == 0:
            raise UnisonoError(f"embed_kernel must be odd (centred), got {self.embed_kernel}.")
        if self.patch_size < 1:
            raise UnisonoError(f"patch_size must be at least 1, got {self.patch_size}.")
        if self.caption_stream:
            tokens = (self.caption_mask_token, self.caption_end_token, self.caption_pad_token)
            if self.caption_vocab < 2 or not all(0 <= t < self.caption_vocab for t in tokens):
                raise UnisonoError(
                    f"caption_stream needs caption_vocab (the tokenizer's size, got "
                    f"{self.caption_vocab}) containing the mask / end / pad ids {tokens}."
                )
            if self.caption_conv < 0 or (self.caption_conv and self.caption_conv % 2 == 0):
                raise UnisonoError(f"caption_conv must be 0 (none) or an odd kernel, got "
                                   f"{self.caption_conv}.")
            if not 0 <= self.answer_length <= self.caption_length:
                raise UnisonoError(
                    f"answer_length {self.answer_length} must be in 0..caption_length "
                    f"({self.caption_length}); 0 uses caption_length."
                )

    def answer_tokens(self, task: str) -> int:
        """Caption-stream positions of `task`'s answers (`answer_positions`)."""
        return answer_positions(task, self.caption_length, self.answer_length)

    @property
    def head_width(self) -> int:
        """Width of one attention head."""
        return self.width // self.heads

    @property
    def input_channels(self) -> int:
        """Channels of the embedder input [z_t | z_s | m]: 2 C + 1."""
        return 2 * self.latent_channels + 1

    @property
    def mlp_width(self) -> int:
        """Hidden width of the audio (and caption) MLP."""
        return int(round(self.width * self.mlp_ratio))


def answer_positions(task: str, caption_length: int, answer_length: int) -> int:
    """Caption-stream positions of `task`'s answers: answer_length for questions (when set),
    caption_length otherwise."""
    return answer_length if task == "question" and answer_length else caption_length


PRESETS: dict[str, DiTConfig] = {
    # ~6M parameters: about 5k steps an hour at batch 8 x 5 s on two CPU cores.
    "tiny": DiTConfig(width=256, depth=6, heads=4, mlp_ratio=3.0),
    # UniFlow-Audio small (~200M).
    "small": DiTConfig(width=896, depth=16, heads=14, mlp_ratio=4.0, content_dim=896),
    # UNISON D24: 24 blocks, width 1024, 8 heads.
    "base": DiTConfig(width=1024, depth=24, heads=8, mlp_ratio=4.0, content_dim=1024),
}


def dit_preset(name: str) -> DiTConfig:
    """A copy of a named preset."""
    if name not in PRESETS:
        raise UnisonoError(f"Unknown generator preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return copy.deepcopy(PRESETS[name])

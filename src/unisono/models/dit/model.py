"""`DiT`: the unified generator backbone, (z_t, t, conditions) -> velocity on the target channels.

The network only maps inputs to a velocity; the probability path, the loss and the solvers live in
`unisono.flow` (STYLE.md). Conditions:
- `source_latent` z_s (B, C, T) and `task_tag` m (B, T) in {0 generate, 1 transform the source,
  2 reference prefix}: concatenated with z_t on channels (UNISON 3.4); zeros / 0 when absent.
- the instruction: every hidden state of the frozen text encoder (L + 1 tensors (B, N, Dt)) and
  its mask (B, N); an all-False mask is the dropped instruction of classifier-free guidance.
- time-aligned `content` (B, T, Dc) with `content_mask` (B,) saying which rows have any; a learned
  dummy stands in elsewhere (UniFlow-Audio dual fusion).
- `frame_mask` (B, T): True on real frames; padding frames never influence real ones.
- caption tokens (B, K) for captioning and questions (UAT): a persistent stream of token
  embeddings in the joint attention; `caption_logits` reads it out over the tokenizer's vocabulary.

With patch size p, every p latent frames form one audio token (P = ceil(T / p) tokens).

Shapes: B batch, C latent channels, T latent frames, P audio tokens, N instruction tokens,
K caption tokens, V caption vocabulary, D width, Dt text width, Dc content width.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from unisono.errors import UnisonoError
from unisono.models.dit.block import MODULATION_CHUNKS, AttentionInputs, DoubleStreamBlock
from unisono.models.dit.config import DiTConfig
from unisono.models.dit.content import ContentEncoder, expand_to_frames, frames_from_log
from unisono.models.dit.layers import (
    ConvMLPEmbedder,
    RotaryEmbedding,
    TimestepEmbedding,
    joint_key_mask,
    modulate,
    patch_mask,
    unpatchify,
)
from unisono.models.pretrained import load_model_weights, read_model_config, save_model_folder
from unisono.models.text_encoder import fusion_layers


def pooled_text(hidden_state: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of a hidden state (B, N, Dt) over real tokens -> (B, Dt); zeros for an empty mask."""
    weight = mask.to(hidden_state.dtype).unsqueeze(-1)
    return (hidden_state * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)


class DurationPredictor(nn.Module):
    """Clip duration from the instruction: pooled last encoder layer -> MLP -> log seconds."""

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.max_duration = config.max_duration
        self.mlp = nn.Sequential(
            nn.Linear(config.text_width, config.duration_hidden),
            nn.GELU(),
            nn.Linear(config.duration_hidden, config.duration_hidden),
            nn.GELU(),
            nn.Linear(config.duration_hidden, 1),
        )

    def forward(self, hidden_state: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Predicted log duration in seconds (B,)."""
        return self.mlp(pooled_text(hidden_state, mask)).squeeze(-1)

    def seconds(self, hidden_state: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Predicted duration in seconds (B,), within (0.1 s, max_duration]."""
        log_seconds = self.forward(hidden_state, mask)
        return log_seconds.exp().clamp(min=0.1, max=self.max_duration)


class DiT(nn.Module):
    """The MM-DiT generator backbone. See the module docstring for its inputs."""

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.config = config
        width = config.width
        self.embedder = ConvMLPEmbedder(
            config.latent_channels, width, config.embed_kernel, config.patch_size
        )
        self.time_embedding = TimestepEmbedding(width)
        self.instruction_pool = nn.Linear(config.text_width, width)
        # adaLN-single (PixArt-alpha): one projection shared by all blocks, offsets per block.
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, MODULATION_CHUNKS * width))
        self.caption_modulation = (
            nn.Sequential(nn.SiLU(), nn.Linear(width, MODULATION_CHUNKS * width))
            if config.caption_stream
            else None
        )
        self.content_embedding = nn.Linear(config.content_dim, width)
        self.content_dummy = nn.Parameter(torch.zeros(config.content_dim))
        self.content_encoder = (
            ContentEncoder(
                vocab=config.content_vocab, width=config.content_dim, layers=config.content_layers
            )
            if config.content_vocab > 0
            else None
        )
        self.rotary = RotaryEmbedding(config.head_width, config.rope_base)
        self.blocks = nn.ModuleList(DoubleStreamBlock(config) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        self.head = nn.Linear(width, config.latent_channels * config.patch_size)
        if config.caption_stream:
            # Token embeddings double as the output layer (tied), so the vocabulary costs V x D once.
            self.caption_embedding = nn.Embedding(config.caption_vocab, width)
            self.caption_positions = nn.Parameter(torch.zeros(config.caption_length, width))
            self.caption_norm = nn.LayerNorm(width, eps=1e-6)
            self.caption_bias = nn.Parameter(torch.zeros(config.caption_vocab))
        self.duration = DurationPredictor(config)
        self.text_layers = fusion_layers(
            config.fusion, num_blocks=config.depth, num_layers=config.text_layers
        )
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """Xavier linears; zeros where the papers start from nothing.

        Zero: the embedder weights from z_s and m (UNISON 3.4), the AdaLN projections (every gate
        starts closed, DiT adaLN-Zero), each block's content projection (content starts with no
        effect) and the velocity head (DiT's zero output layer).
        """
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.normal_(self.content_dummy, std=0.02)
        if self.config.caption_stream:
            nn.init.normal_(self.caption_embedding.weight, std=0.02)
            nn.init.normal_(self.caption_positions, std=0.02)
        self.embedder.zero_source_weights()
        zeroed = [self.modulation[1], self.final_modulation[1], self.head]
        if self.caption_modulation is not None:
            zeroed.append(self.caption_modulation[1])
        for linear in zeroed:
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)
        for block in self.blocks:
            nn.init.zeros_(block.content.weight)
            nn.init.zeros_(block.content.bias)
            if block.caption_conv is not None:  # the stream starts as it was without it
                nn.init.zeros_(block.caption_conv.weight)
                nn.init.zeros_(block.caption_conv.bias)

    @property
    def num_parameters(self) -> int:
        """Trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def check_text(self, text_states: tuple[torch.Tensor, ...], text_mask: torch.Tensor) -> None:
        """A clear error when the instruction does not come from the configured encoder."""
        expected = self.config.text_layers + 1
        if len(text_states) != expected or text_states[0].shape[-1] != self.config.text_width:
            raise UnisonoError(
                f"The generator expects {expected} text hidden states of width "
                f"{self.config.text_width}, got {len(text_states)} of width "
                f"{text_states[0].shape[-1]}: use the text encoder it was trained with."
            )
        if text_mask.shape != text_states[0].shape[:2]:
            raise UnisonoError(
                f"Text mask {tuple(text_mask.shape)} does not match the hidden states "
                f"{tuple(text_states[0].shape[:2])}."
            )

    def instruction_inputs(
        self, text_states: tuple[torch.Tensor, ...], text_mask: torch.Tensor
    ) -> list[AttentionInputs]:
        """Per block the instruction's queries / keys / values. They do not depend on z_t or t,
        so a sampler may compute them once per request (see `forward(..., instruction=...)`)."""
        self.check_text(text_states, text_mask)
        return [
            block.instruction(text_states[index], text_mask)
            for block, index in zip(self.blocks, self.text_layers, strict=True)
        ]

    def conditioning(
        self, flow_time: torch.Tensor, text_states: tuple[torch.Tensor, ...], text_mask: torch.Tensor
    ) -> torch.Tensor:
        """Global AdaLN input (B, D): flow time plus the pooled instruction (SD3's pooled text)."""
        pooled = pooled_text(text_states[-1], text_mask)
        return self.time_embedding(flow_time) + self.instruction_pool(pooled)

    def embed_content(
        self, content: torch.Tensor | None, content_mask: torch.Tensor | None, batch: int
    ) -> torch.Tensor:
        """Content features (B, T, D), or the dummy (B, 1, D) broadcast over frames."""
        dummy = self.content_dummy.view(1, 1, -1)
        if content is None:
            return self.content_embedding(dummy).expand(batch, 1, -1)
        if content.shape[-1] != self.config.content_dim:
            raise UnisonoError(
                f"Content has {content.shape[-1]} features per frame; the generator expects "
                f"{self.config.content_dim}."
            )
        if content_mask is not None:
            content = torch.where(content_mask.view(-1, 1, 1), content, dummy.to(content.dtype))
        return self.content_embedding(content)

    def encode_content(
        self,
        symbols: torch.Tensor,
        pitch: torch.Tensor,
        symbol_mask: torch.Tensor,
        *,
        total_frames: int,
        frames: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Time-aligned content for `forward(content=...)`.

        Args:
            symbols: symbol ids (B, P), 0 = padding.
            pitch: pitch ids (B, P): 0 none, MIDI p -> p + 1.
            symbol_mask: True on real symbols (B, P).
            total_frames: T, the latent frames to fill.
            frames: frames per symbol (B, P) (ground truth in training); None predicts them.

        Returns:
            content (B, T, Dc), predicted log frames (B, P), the frames used (B, P).
        """
        if self.content_encoder is None:
            raise UnisonoError(
                "this generator has no content encoder (model.content_vocab is 0); train it with "
                "a time-aligned task (aligned tts, svs)."
            )
        features, log_frames = self.content_encoder(symbols, pitch, symbol_mask)
        if frames is None:
            frames = frames_from_log(log_frames, symbol_mask)
        return expand_to_frames(features, frames, total_frames), log_frames, frames

    def forward(
        self,
        noised: torch.Tensor,
        flow_time: torch.Tensor,
        *,
        text_states: tuple[torch.Tensor, ...],
        text_mask: torch.Tensor,
        source_latent: torch.Tensor | None = None,
        task_tag: torch.Tensor | None = None,
        frame_mask: torch.Tensor | None = None,
        content: torch.Tensor | None = None,
        content_mask: torch.Tensor | None = None,
        instruction: list[AttentionInputs] | None = None,
    ) -> torch.Tensor:
        """Velocity (B, C, T) on the target channels.

        Args:
            noised: z_t (B, C, T).
            flow_time: t (B,).
            text_states: the text encoder's L + 1 hidden states, each (B, N, Dt).
            text_mask: True on real instruction tokens (B, N); all False drops the instruction.
            source_latent: z_s (B, C, T), zeros when None.
            task_tag: m (B, T) with values 0 / 1 / 2, zeros when None.
            frame_mask: True on real frames (B, T); None when nothing is padded.
            content: time-aligned content (B, T, Dc), or None.
            content_mask: (B,) True where a row's content is real.
            instruction: precomputed `instruction_inputs(text_states, text_mask)` (optional).
        """
        audio, condition, _ = self._trunk(
            noised, flow_time, text_states=text_states, text_mask=text_mask,
            source_latent=source_latent, task_tag=task_tag, frame_mask=frame_mask,
            content=content, content_mask=content_mask, instruction=instruction,
        )
        shift, scale = self.final_modulation(condition).chunk(2, dim=-1)
        audio = modulate(self.final_norm(audio), shift, scale)
        return unpatchify(self.head(audio), self.config.patch_size, noised.shape[-1])

    @torch.no_grad()
    def init_caption_embedding(self, word_embeddings: torch.Tensor, std: float = 0.02) -> None:
        """Start the caption token embeddings (tied with the output head) from a pretrained
        embedding table (V, Dw): its top-D principal components, scaled to the random
        initialisation's std. Tokens used alike start close, so the few captions a small run sees
        teach the whole neighbourhood of each word instead of one row.

        Raises:
            UnisonoError: no caption stream, or a table of another vocabulary size.
        """
        if not self.config.caption_stream:
            raise UnisonoError("init_caption_embedding needs model.caption_stream: true.")
        vocab, width = self.caption_embedding.weight.shape
        if word_embeddings.ndim != 2 or word_embeddings.shape[0] != vocab:
            raise UnisonoError(
                f"a word-embedding table of shape {tuple(word_embeddings.shape)} does not fit the "
                f"caption vocabulary of {vocab} tokens: use the text encoder whose tokenizer set "
                "model.caption_vocab."
            )
        table = word_embeddings.float().cpu()
        table = table - table.mean(dim=0)
        _, _, basis = torch.linalg.svd(table, full_matrices=False)  # (Dw, Dw), rows by variance
        components = table @ basis[:width].t()
        weight = torch.zeros(vocab, width)
        weight[:, : components.shape[1]] = components
        weight *= std / weight.std()
        self.caption_embedding.weight.copy_(weight.to(self.caption_embedding.weight))

    def caption_logits(
        self,
        latent: torch.Tensor,
        caption_tokens: torch.Tensor,
        *,
        text_states: tuple[torch.Tensor, ...],
        text_mask: torch.Tensor,
        frame_mask: torch.Tensor | None = None,
        instruction: list[AttentionInputs] | None = None,
    ) -> torch.Tensor:
        """Logits (B, K, V) of every caption position, given the clean audio latent (B, C, T)
        (flow time 0) and caption tokens (B, K) some of which are `caption_mask_token` (UAT).

        The instruction is the request (a captioning prompt or a question about the audio).
        """
        if not self.config.caption_stream:
            raise UnisonoError(
                "this generator has no caption stream (model.caption_stream is false); train it "
                "with the caption / question tasks."
            )
        batch, length = caption_tokens.shape
        if length > self.config.caption_length:
            raise UnisonoError(
                f"{length} caption tokens; this model reads at most {self.config.caption_length}."
            )
        captions = self.caption_embedding(caption_tokens) + self.caption_positions[:length]
        clean = torch.zeros(batch, device=latent.device, dtype=latent.dtype)
        _, condition, captions = self._trunk(
            latent, clean, text_states=text_states, text_mask=text_mask, frame_mask=frame_mask,
            instruction=instruction, captions=captions,
        )
        hidden = self.caption_norm(captions)
        return hidden @ self.caption_embedding.weight.t() + self.caption_bias

    def _trunk(
        self,
        noised: torch.Tensor,
        flow_time: torch.Tensor,
        *,
        text_states: tuple[torch.Tensor, ...],
        text_mask: torch.Tensor,
        source_latent: torch.Tensor | None = None,
        task_tag: torch.Tensor | None = None,
        frame_mask: torch.Tensor | None = None,
        content: torch.Tensor | None = None,
        content_mask: torch.Tensor | None = None,
        instruction: list[AttentionInputs] | None = None,
        captions: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The blocks: audio tokens (B, P, D), the AdaLN condition (B, D) and, when caption
        embeddings (B, K, D) are given, the caption stream's output (B, K, D) (else None)."""
        batch, channels, frames = noised.shape
        if channels != self.config.latent_channels:
            raise UnisonoError(
                f"Latent has {channels} channels; this generator works on "
                f"{self.config.latent_channels} (the codec it was trained with)."
            )
        if source_latent is None:
            source_latent = torch.zeros_like(noised)
        if task_tag is None:
            task_tag = torch.zeros(batch, frames, dtype=noised.dtype, device=noised.device)
        inputs = torch.cat([noised, source_latent, task_tag.to(noised.dtype).unsqueeze(1)], dim=1)
        audio = self.embedder(inputs, frame_mask)
        patch = self.config.patch_size
        token_mask = None if frame_mask is None else patch_mask(frame_mask, patch)

        if instruction is None:
            instruction = self.instruction_inputs(text_states, text_mask)
        condition = self.conditioning(flow_time, text_states, text_mask)
        audio_modulation = self.modulation(condition).view(batch, MODULATION_CHUNKS, -1)
        rotary = self.rotary.cos_sin(audio.shape[1], audio.device, audio.dtype)
        content_tokens = _pool_patches(self.embed_content(content, content_mask, batch), patch)
        caption_modulation = None
        if captions is not None and self.caption_modulation is not None:
            caption_modulation = self.caption_modulation(condition).view(batch, MODULATION_CHUNKS, -1)

        # Every block attends over the same streams: audio, instruction, captions (all real).
        masks, lengths = [token_mask, instruction[0].mask], [audio.shape[1], instruction[0].key.shape[2]]
        if captions is not None:
            masks, lengths = [*masks, None], [*lengths, captions.shape[1]]
        key_mask = joint_key_mask(masks, lengths)
        for block, block_instruction in zip(self.blocks, instruction, strict=True):
            audio, captions = block(
                audio,
                modulation=audio_modulation,
                instruction=block_instruction,
                key_mask=key_mask,
                rotary=rotary,
                content=content_tokens,
                caption=captions,
                caption_modulation=caption_modulation,
            )
        return audio, condition, captions

    def save_pretrained(
        self, directory: str | Path, *, ema_state: dict[str, torch.Tensor] | None = None
    ) -> Path:
        """Write config.json + model.safetensors (+ ema.safetensors); no pickles."""
        return save_model_folder(
            directory, config=self.config, state=self.state_dict(), ema_state=ema_state
        )

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, weights: str = "auto") -> DiT:
        """Load a folder written by `save_pretrained` (EMA weights when present under "auto").

        Folders written before the caption stream existed load into a captioning config: the
        caption layers keep their fresh initialisation.
        """
        config = read_model_config(directory, DiTConfig, what="generator")
        model = cls(config)
        load_model_weights(
            model, directory, weights=weights, what="generator", allow_missing=later_parts(model)
        )
        return model.eval()


def _pool_patches(tokens: torch.Tensor, patch: int) -> torch.Tensor:
    """Per-frame tokens (B, T, D) -> per-patch means (B, P, D); a broadcast (B, 1, D) stays."""
    if patch == 1 or tokens.shape[1] == 1:
        return tokens
    batch, frames, width = tokens.shape
    padded = torch.nn.functional.pad(tokens, (0, 0, 0, -frames % patch))
    return padded.view(batch, -1, patch, width).mean(dim=2)


def later_parts(model: DiT) -> tuple[str, ...]:
    """Parts added by later capabilities (captioning, TA content, the caption stream's
    convolution): absent in older folders."""
    blocks = tuple(f"blocks.{k}.{part}." for k in range(model.config.depth)
                   for part in ("caption", "caption_conv"))
    return (*blocks, "caption_", "content_encoder.")

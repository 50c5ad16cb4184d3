"""From task examples to a padded, encoded training batch.

Every step draws one task (task-homogeneous batches, UNISON 3.7) with the configured weights, then
its examples; all randomness comes from generators seeded by (seed, step, index), so a batch is a
pure function of the config and the step (this is what makes resume exact).

Shapes: B batch, C latent channels, T latent frames (the longest in the batch), N instruction
tokens, Dt text width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from unisono.errors import UnisonoError
from unisono.models.codec import Codec
from unisono.models.dit.config import answer_positions
from unisono.models.text_encoder import TextEncoder
from unisono.tasks import TAG_REFERENCE, ClipPool, TaskExample, get_task
from unisono.tasks.symbols import symbol_ids
from unisono.train.config import GeneratorDataConfig
from unisono.train.latents import LatentCache


@dataclass
class GeneratorBatch:
    """One encoded batch.

    Attributes:
        task: the batch's task.
        latent: target latents z (B, C, T), padded.
        source_latent: z_s (B, C, T), zeros for generation tasks.
        task_tag: m (B, T).
        frame_mask: True on real frames (B, T).
        loss_mask: True on frames the loss covers (B, T).
        text_states: the instruction's hidden states, L + 1 tensors (B, N, Dt).
        text_mask: True on kept instruction tokens (B, N); all False where dropped.
        durations: target durations in seconds (B,).
        kept: True where the instruction was kept (B,).
        content_symbols: symbol ids of time-aligned content (B, P), or None for NTA tasks.
        content_pitch: pitch ids (B, P): 0 none, MIDI p -> p + 1.
        content_frames: ground-truth frames per symbol (B, P).
        content_mask: True where a row's content is kept (B,) (dropped with the instruction).
        caption_tokens: the answer of an understanding batch (B, K) (end token, then padding),
            or None for audio tasks.
    """

    task: str
    latent: torch.Tensor
    source_latent: torch.Tensor
    task_tag: torch.Tensor
    frame_mask: torch.Tensor
    loss_mask: torch.Tensor
    text_states: tuple[torch.Tensor, ...]
    text_mask: torch.Tensor
    durations: torch.Tensor
    kept: torch.Tensor
    content_symbols: torch.Tensor | None = None
    content_pitch: torch.Tensor | None = None
    content_frames: torch.Tensor | None = None
    content_mask: torch.Tensor | None = None
    caption_tokens: torch.Tensor | None = None

    def to(self, device: torch.device) -> GeneratorBatch:
        """The batch with every tensor on `device`."""
        moved = {}
        for name, value in self.__dict__.items():
            if isinstance(value, torch.Tensor):
                value = value.to(device)
            elif isinstance(value, tuple):
                value = tuple(v.to(device) for v in value)
            moved[name] = value
        return GeneratorBatch(**moved)


class ExampleSampler:
    """Chooses each step's task and builds its examples, reproducibly from (seed, step)."""

    def __init__(
        self, task_weights: dict[str, float], pool: ClipPool, *, seed: int, generation_steps: int = 0
    ) -> None:
        if not task_weights:
            raise UnisonoError("the config's `tasks` is empty: give at least one task a weight.")
        self.names = sorted(task_weights)
        for name in self.names:
            get_task(name)  # unknown names fail here, listing the known ones
        weights = np.array([task_weights[n] for n in self.names], dtype=np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise UnisonoError(f"task weights must be >= 0 with a positive sum; got {task_weights}")
        self.probabilities = weights / weights.sum()
        self.generation_steps = generation_steps
        first = np.array(
            [
                w if get_task(n).family == "generation" else 0.0
                for n, w in zip(self.names, weights, strict=True)
            ]
        )
        if generation_steps > 0 and first.sum() <= 0:
            raise UnisonoError(
                "curriculum.generation_steps > 0 but no generation task has a weight; give one "
                "(e.g. t2a) a weight or set curriculum.generation_steps=0."
            )
        self.first_stage = first / first.sum() if first.sum() > 0 else self.probabilities
        self.pool = pool
        self.seed = seed

    def task_for_step(self, step: int) -> str:
        """The task of step `step`: generation tasks only before `generation_steps` (UNISON's
        two-stage curriculum), then every task, with the configured weights."""
        rng = np.random.default_rng([self.seed, step, 0])
        probabilities = self.probabilities
        if step < self.generation_steps:
            probabilities = self.first_stage
        return self.names[int(rng.choice(len(self.names), p=probabilities))]

    def examples(self, step: int, batch_size: int, *, offset: int = 0) -> list[TaskExample]:
        """The examples of step `step` (a process of a multi-process run passes its offset)."""
        task = get_task(self.task_for_step(step))
        return [
            task.build(self.pool, np.random.default_rng([self.seed, step, 1, offset + i]))
            for i in range(batch_size)
        ]


def silence_latent(codec: Codec) -> torch.Tensor:
    """The codec's latent frame for digital silence (C,), used as trailing padding."""
    with torch.inference_mode():
        latent = codec.encode(torch.zeros(1, codec.hop * 16, device=codec.device))
    return latent[0, :, 8].cpu()


class BatchAssembler:
    """Turns examples into a `GeneratorBatch`: latents from the cache (or the codec), text from
    the frozen encoder, padding and masks by the length mode."""

    def __init__(
        self,
        *,
        config: GeneratorDataConfig,
        codec: Codec,
        text_encoder: TextEncoder,
        cache: LatentCache,
        caption_length: int = 48,
        answer_length: int = 0,
    ) -> None:
        self.config = config
        self.caption_length = caption_length
        self.answer_length = answer_length
        self.codec = codec
        self.text_encoder = text_encoder
        self.cache = cache
        self.frame_rate = codec.sample_rate / codec.hop
        self.max_frames = int(round(config.max_seconds * self.frame_rate))
        self.fixed_frames = int(round(config.fixed_seconds * self.frame_rate))
        self.silence = silence_latent(codec)

    def _target(self, example: TaskExample, rng: np.random.Generator) -> torch.Tensor:
        if example.target_clip is not None:
            latent = self.cache[example.target_clip]
        elif example.target is not None:
            with torch.inference_mode():
                latent = self.codec.encode_audio(example.target, self.codec.sample_rate)
        else:
            raise UnisonoError(f"{example.task} example has no target")
        limit = self.fixed_frames if self.config.length_mode == "fixed" else self.max_frames
        if latent.shape[1] > limit:
            start = int(rng.integers(latent.shape[1] - limit + 1))
            latent = latent[:, start : start + limit]
        return latent

    def _source(self, example: TaskExample, frames: int) -> torch.Tensor | None:
        if example.source is None:
            return None
        with torch.inference_mode():
            latent = self.codec.encode_audio(example.source, self.codec.sample_rate)
        return latent[:, :frames]

    def assemble(
        self, examples: list[TaskExample], *, step: int, seed: int, offset: int = 0
    ) -> GeneratorBatch:
        """Encode and pad a list of examples of one task.

        Example i draws its crop and instruction dropout from a generator seeded by
        (seed, step, offset + i), so a row does not depend on which process or micro-batch holds it.
        """
        rngs = [np.random.default_rng([seed, step, 2, offset + i]) for i in range(len(examples))]
        targets = [self._target(example, rng) for example, rng in zip(examples, rngs, strict=True)]
        real_frames = [t.shape[1] for t in targets]
        fixed = self.config.length_mode == "fixed"
        frames = self.fixed_frames if fixed else max(real_frames)
        batch, channels = len(examples), targets[0].shape[0]
        latent = torch.zeros(batch, channels, frames)
        source_latent = torch.zeros(batch, channels, frames)
        task_tag = torch.zeros(batch, frames)
        frame_mask = torch.zeros(batch, frames, dtype=torch.bool)
        loss_mask = torch.zeros(batch, frames, dtype=torch.bool)
        for row, (example, target) in enumerate(zip(examples, targets, strict=True)):
            length = target.shape[1]
            latent[row, :, :length] = target
            if fixed:
                latent[row, :, length:] = self.silence.unsqueeze(1)
                frame_mask[row] = True
                loss_mask[row] = True
            else:
                frame_mask[row, :length] = True
                loss_mask[row, :length] = True
            source = self._source(example, length)
            if source is not None:
                source_latent[row, :, : source.shape[1]] = source
                task_tag[row, : source.shape[1]] = example.source_tag
            if example.reference_seconds > 0:
                # Zero-shot cloning: the reference prefix is given as source (m = 2) and left out
                # of the loss (UNISON eq. 3).
                reference = min(int(round(example.reference_seconds * self.frame_rate)), length)
                source_latent[row, :, :reference] = target[:, :reference]
                task_tag[row, :reference] = TAG_REFERENCE
                loss_mask[row, :reference] = False
        encoding = self.text_encoder.encode([e.instruction for e in examples])
        kept = torch.tensor([rng.random() >= self.config.instruction_dropout for rng in rngs])
        answers = None
        if examples[0].answer is not None:
            # The request (a question) is never dropped: understanding needs no guidance.
            kept[:] = True
            length = answer_positions(examples[0].task, self.caption_length, self.answer_length)
            answers = self.text_encoder.caption_ids([e.answer or "" for e in examples], length)
        text_mask = encoding.mask & kept.unsqueeze(1)
        durations = torch.tensor([e.duration for e in examples], dtype=torch.float32)
        content = self._content(examples, frames, kept) if examples[0].phones is not None else {}
        return GeneratorBatch(
            task=examples[0].task,
            latent=latent,
            source_latent=source_latent,
            task_tag=task_tag,
            frame_mask=frame_mask,
            loss_mask=loss_mask,
            text_states=tuple(encoding.hidden_states),
            text_mask=text_mask,
            durations=durations,
            kept=kept,
            caption_tokens=answers,
            **content,
        )

    def _content(
        self, examples: list[TaskExample], frames: int, kept: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Pad the phones of a TA batch; phone times become whole frames that tile the clip."""
        longest = max(len(e.phones or []) for e in examples)
        symbols = torch.zeros(len(examples), longest, dtype=torch.long)
        pitch = torch.zeros(len(examples), longest, dtype=torch.long)
        phone_frames = torch.zeros(len(examples), longest, dtype=torch.long)
        for row, example in enumerate(examples):
            if not example.phones or example.phone_seconds is None:
                raise UnisonoError(f"{example.task} example has no phones: TA batches need them.")
            count = len(example.phones)
            symbols[row, :count] = torch.tensor(symbol_ids(example.phones))
            # Round cumulative ends, not each length, so rounding errors do not accumulate.
            ends = np.round(np.cumsum(example.phone_seconds) * self.frame_rate).astype(np.int64)
            ends = np.minimum(ends, frames)
            phone_frames[row, :count] = torch.from_numpy(np.diff(ends, prepend=0))
            if example.phone_pitch is not None:
                pitch[row, :count] = torch.tensor([p + 1 if p > 0 else 0 for p in example.phone_pitch])
        return {
            "content_symbols": symbols,
            "content_pitch": pitch,
            "content_frames": phone_frames,
            "content_mask": kept.clone(),
        }

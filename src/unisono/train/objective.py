"""The generator's training objective as a module, so DDP / FSDP wrap one forward that returns the
loss: flow matching on the loss-masked frames, the clip-duration predictor's log-L1, and for
time-aligned tasks the content durations' log-L1; for understanding batches (caption, question)
the masked-diffusion loss of the caption tokens with the audio clean (UAT).

Noise, flow times and caption masks are drawn per example from generators seeded by
(seed, step, example index), so a batch split across processes or micro-batches draws exactly
what one process would.

Shapes: B batch, C latent channels, T frames, P content symbols, K caption tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from unisono.errors import UnisonoError
from unisono.flow import FlowMatching
from unisono.flow.path import (
    FlowExample,
    change_weights,
    interpolate,
    source_prior,
    target_change,
    target_velocity,
)
from unisono.flow.text_diffusion import mask_tokens, masked_diffusion_loss
from unisono.models.dit import DiT
from unisono.tasks import get_task
from unisono.tasks.base import SOURCE_PRIOR_FAMILIES
from unisono.train.batches import GeneratorBatch


def row_generator(seed: int, step: int, row: int, device: torch.device) -> torch.Generator:
    """A torch generator for one example of one step, independent of batch layout."""
    state = np.random.SeedSequence([seed, step, 3, row]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator(device=device).manual_seed(int(state) & ((1 << 63) - 1))


def flow_example(
    flow: FlowMatching, latent: torch.Tensor, *, seed: int, step: int, offset: int,
    source: torch.Tensor | None = None, prior_noise: float = 0.0, output: str = "velocity",
) -> FlowExample:
    """Noise and logit-normal flow times drawn row by row (see the module docstring).

    With `source` (B, C, T) the path ends at source + prior_noise * noise instead of at the
    noise (a task trained with a source prior, `unisono.flow.path.source_prior`), and flow times
    are uniform on (0, 1): near t = 1 the noised latent tells nothing of the target, so the
    network must infer the whole change from the source and the instruction there, and the
    logit-normal times, which rarely go above 0.9, would leave that start of sampling untrained.
    With `output` "change" the target is the change, source - z (`unisono.flow.path.target_change`),
    instead of the velocity."""
    noises, times = [], []
    for row in range(latent.shape[0]):
        generator = row_generator(seed, step, offset + row, latent.device)
        noises.append(torch.randn(latent.shape[1:], generator=generator, device=latent.device))
        normal = torch.randn(1, generator=generator, device=latent.device, dtype=torch.float64)
        if source is not None:  # the normal's CDF: uniform, from the same draw
            time = torch.special.ndtr(normal)
        else:
            time = torch.sigmoid(flow.time_mean + flow.time_std * normal)
        times.append(time.to(latent.dtype))
    noise = torch.stack(noises).to(latent.dtype)
    target = None
    if source is not None:
        source = source.to(latent.dtype)
        noise = source_prior(source, noise, prior_noise)
        if output == "change":
            target = target_change(latent, source)
    flow_time = torch.cat(times)
    return FlowExample(
        noised=interpolate(latent, noise, flow_time),
        flow_time=flow_time,
        target=target_velocity(latent, noise) if target is None else target,
        noise=noise,
    )


@dataclass
class CaptionExample:
    """The masked caption of an understanding batch: masked ids (B, K), which positions were
    masked (B, K) and each row's masking rate t (B,)."""

    tokens: torch.Tensor
    masked: torch.Tensor
    rate: torch.Tensor


def caption_example(
    tokens: torch.Tensor, *, mask_token: int, seed: int, step: int, offset: int
) -> CaptionExample:
    """Rates t ~ U(0, 1) and masks drawn row by row (stream 4 of the row's generator)."""
    generators, rates = [], []
    for row in range(tokens.shape[0]):
        state = np.random.SeedSequence([seed, step, 4, offset + row]).generate_state(1, np.uint64)[0]
        generator = torch.Generator(device=tokens.device).manual_seed(int(state) & ((1 << 63) - 1))
        rates.append(torch.rand(1, generator=generator, device=tokens.device))
        generators.append(generator)
    rate = torch.cat(rates)
    masked_tokens, masked = mask_tokens(tokens, rate, mask_token=mask_token, generators=generators)
    return CaptionExample(masked_tokens, masked, rate)


class GeneratorObjective(nn.Module):
    """loss = flow + duration_weight * clip duration + content durations (TA tasks).

    With `change_weight` > 0 the flow loss of transformation tasks (an aligned source: editing,
    restoration) weighs each frame by how much the target changes the source there
    (`unisono.flow.path.change_weights`)."""

    def __init__(self, model: DiT, flow: FlowMatching, *, duration_weight: float,
                 change_weight: float = 0.0) -> None:
        super().__init__()
        if change_weight < 0:
            raise UnisonoError(f"flow.change_weight must be >= 0, got {change_weight}.")
        self.model = model
        self.flow = flow
        self.duration_weight = duration_weight
        self.change_weight = change_weight

    def forward(
        self, batch: GeneratorBatch, example: FlowExample | CaptionExample, *, weighted: bool = True
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(loss, its terms); `weighted=False` leaves out the change weighting (held-out losses
        stay comparable between runs that weigh differently)."""
        model = self.model
        if isinstance(example, CaptionExample):
            if batch.caption_tokens is None:
                raise ValueError("a caption example needs a batch with caption tokens")
            logits = model.caption_logits(
                batch.latent, example.tokens, text_states=batch.text_states,
                text_mask=batch.text_mask, frame_mask=batch.frame_mask,
            )
            loss = masked_diffusion_loss(logits, batch.caption_tokens, example.masked, example.rate)
            return loss, {"caption": loss}
        terms: dict[str, torch.Tensor] = {}
        content = None
        if batch.content_symbols is not None:
            symbol_mask = batch.content_symbols > 0
            content, log_frames, _ = model.encode_content(
                batch.content_symbols, batch.content_pitch, symbol_mask,
                total_frames=batch.latent.shape[-1], frames=batch.content_frames,
            )
            # FastSpeech2-style log-duration L1 on symbols that last at least one frame.
            timed = symbol_mask & (batch.content_frames > 0)
            error = (log_frames - batch.content_frames.clamp(min=1).float().log()).abs()
            terms["content_duration"] = (error * timed).sum() / timed.sum().clamp(min=1)
        velocity = model(
            example.noised,
            example.flow_time,
            text_states=batch.text_states,
            text_mask=batch.text_mask,
            source_latent=batch.source_latent,
            task_tag=batch.task_tag,
            frame_mask=batch.frame_mask,
            content=content,
            content_mask=batch.content_mask,
        )
        weights = batch.loss_mask
        if weighted and self.change_weight > 0 and get_task(batch.task).family in SOURCE_PRIOR_FAMILIES:
            weights = change_weights(batch.latent.float(), batch.source_latent.float(),
                                     batch.loss_mask, self.change_weight)
        flow_loss = self.flow.loss(velocity.float(), example, weights)
        predicted = model.duration(batch.text_states[-1], batch.text_mask).float()
        error = (predicted - batch.durations.clamp(min=0.1).log()).abs()
        kept = batch.kept.to(error.dtype)
        duration_loss = (error * kept).sum() / kept.sum().clamp(min=1.0)
        total = flow_loss + self.duration_weight * duration_loss
        if "content_duration" in terms:
            total = total + terms["content_duration"]
        return total, {"flow": flow_loss, "duration": duration_loss, **terms}

"""Masked discrete diffusion on caption tokens (UAT; MDLM / LLaDA): the forward masking process,
its training loss and the confidence-ordered sampler.

Forward process: at rate t ~ U(0, 1) every token is replaced by [MASK] independently with
probability t. The model predicts the original of every masked token; the loss is the
cross-entropy on masked positions weighted by 1 / t (the continuous-time ELBO of MDLM, eq. 10),
averaged over all positions of the batch.

Sampling starts from K masks. At step s of S the model predicts every masked position; the most
confident predictions are committed so that round(K s / S) positions are known after the step,
the rest stay masked (LLaDA's low-confidence remasking). With temperature > 0 predictions are drawn
(Gumbel-max) from the tempered distribution instead of taken greedily. S = 1 is the greedy one-step
mode.

Shapes: B batch, K caption tokens, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from unisono.errors import UnisonoError

MIN_RATE = 1e-3  # the 1 / t weight is capped at 1000


def mask_tokens(
    tokens: torch.Tensor, rate: torch.Tensor, *, mask_token: int, generators: list[torch.Generator]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask each token of row b with probability rate[b].

    Args:
        tokens: clean token ids (B, K).
        rate: masking probabilities t (B,) in (0, 1].
        mask_token: the [MASK] id.
        generators: one per row (a row's draw does not depend on its batch).

    Returns:
        the masked ids (B, K) and the boolean mask of replaced positions (B, K).
    """
    if len(generators) != tokens.shape[0] or rate.shape != tokens.shape[:1]:
        raise UnisonoError(
            f"need one rate and one generator per row: tokens {tuple(tokens.shape)}, rate "
            f"{tuple(rate.shape)}, {len(generators)} generators."
        )
    draws = torch.stack([
        torch.rand(tokens.shape[1], generator=g, device=tokens.device) for g in generators
    ])
    masked = draws < rate.unsqueeze(1).to(draws.dtype)
    return torch.where(masked, torch.full_like(tokens, mask_token), tokens), masked


def masked_diffusion_loss(
    logits: torch.Tensor, targets: torch.Tensor, masked: torch.Tensor, rate: torch.Tensor
) -> torch.Tensor:
    """sum over masked positions of CE / t, divided by the number of positions B K.

    Args:
        logits: model outputs (B, K, V).
        targets: clean ids (B, K).
        masked: True where the input was masked (B, K).
        rate: the masking rate t of each row (B,).
    """
    cross_entropy = F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")
    weight = masked.float() / rate.clamp(min=MIN_RATE).unsqueeze(1).float()
    return (cross_entropy * weight).sum() / targets.numel()


LogitsFn = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def sample_tokens(
    logits_fn: LogitsFn,
    *,
    batch: int,
    length: int,
    steps: int,
    mask_token: int,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Unmask K = `length` tokens over `steps` steps, most confident first.

    Args:
        logits_fn: tokens (B, K) -> logits (B, K, V).
        batch: B.
        length: K.
        steps: S in 1..K.
        mask_token: the [MASK] id (never produced).
        temperature: 0 greedy; > 0 samples from softmax(logits / temperature).
        generator: the randomness of sampling (needed when temperature > 0).
        device: where the tokens live.

    Returns:
        token ids (B, K) without masks.
    """
    if not 1 <= steps <= length:
        raise UnisonoError(f"caption steps must be in 1..{length} (the caption length), got {steps}.")
    if temperature < 0:
        raise UnisonoError(f"temperature must be >= 0, got {temperature}.")
    tokens = torch.full((batch, length), mask_token, dtype=torch.long, device=device)
    for step in range(1, steps + 1):
        still = tokens == mask_token
        logits = logits_fn(tokens).float()
        logits[..., mask_token] = float("-inf")
        if temperature > 0:
            uniform = torch.rand(logits.shape, generator=generator, device=logits.device)
            gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-10)))
            choice = (logits / temperature + gumbel).argmax(dim=-1)
        else:
            choice = logits.argmax(dim=-1)
        confidence = logits.log_softmax(dim=-1).gather(-1, choice.unsqueeze(-1)).squeeze(-1)
        confidence = confidence.masked_fill(~still, float("-inf"))
        known_after = round(length * step / steps)
        commit = known_after - int((~still[0]).sum())
        if commit <= 0:
            continue
        # Ties break toward earlier positions: a stable descending sort.
        order = torch.sort(confidence, dim=-1, descending=True, stable=True).indices[:, :commit]
        rows = torch.arange(batch, device=tokens.device).unsqueeze(1)
        tokens[rows, order] = choice[rows, order]
    return tokens

"""Optimisation helpers shared by trainers: AdamW, warmup + cosine schedule, clipping, guards."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from unisono.errors import UnisonoError


@dataclass
class OptimConfig:
    """Optimiser and schedule settings.

    Attributes:
        lr: peak learning rate.
        betas: AdamW betas.
        weight_decay: decoupled weight decay (not applied to biases, norms, 1-D parameters).
        warmup_steps: linear warmup from 0 to `lr`.
        min_lr_ratio: cosine decay ends at lr * min_lr_ratio at max_steps.
        grad_clip: max global gradient norm (0 disables clipping).
        ema_decay: decay of the weight EMA.
        max_nonfinite_steps: consecutive non-finite losses tolerated (skipped) before stopping.
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.8, 0.99)
    weight_decay: float = 0.01
    warmup_steps: int = 200
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    max_nonfinite_steps: int = 20


def build_optimizer(model: nn.Module, config: OptimConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices / kernels only."""
    decay, no_decay = [], []
    for _, param in sorted(model.named_parameters()):
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def cosine_schedule(
    optimizer: torch.optim.Optimizer,
    *,
    warmup_steps: int,
    total_steps: int,
    min_lr_ratio: float = 0.0,
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup to the base lr, then a cosine to base * min_lr_ratio at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
        return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def clip_gradients(parameters: Iterable[nn.Parameter], max_norm: float) -> float:
    """Clip the global gradient norm (if max_norm > 0); returns the norm before clipping."""
    params = [p for p in parameters if p.grad is not None]
    if max_norm > 0:
        return float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])))


class NonFiniteGuard:
    """Skip steps whose loss or gradient norm is NaN / Inf; stop after too many in a row."""

    def __init__(self, max_consecutive: int):
        self.max_consecutive = max_consecutive
        self.consecutive = 0
        self.skipped = 0

    def ok(self, value: float | torch.Tensor, *, step: int) -> bool:
        """True when `value` is finite; False (skip the step) otherwise."""
        value = value.detach() if isinstance(value, torch.Tensor) else value
        if math.isfinite(float(value)):
            self.consecutive = 0
            return True
        self.consecutive += 1
        self.skipped += 1
        if self.consecutive > self.max_consecutive:
            raise UnisonoError(
                f"loss was non-finite for {self.consecutive} steps in a row (last at step {step}): "
                "lower the learning rate or resume from an earlier checkpoint."
            )
        return False


def progress_bar(*, start: int, total: int, description: str) -> tqdm:
    """A tqdm bar from `start` to `total` steps with rate and ETA."""
    return tqdm(
        total=total,
        initial=start,
        desc=description,
        unit="step",
        dynamic_ncols=True,
        smoothing=0.05,
    )

"""Generic training helpers: atomic checkpoints with exact resume, EMA, logging, optimisation."""

from unisono.training.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_trainer_state,
    save_checkpoint,
)
from unisono.training.ema import EMA
from unisono.training.logging import MetricLogger
from unisono.training.loop import (
    NonFiniteGuard,
    OptimConfig,
    build_optimizer,
    clip_gradients,
    cosine_schedule,
    progress_bar,
)

__all__ = [
    "EMA",
    "MetricLogger",
    "NonFiniteGuard",
    "OptimConfig",
    "build_optimizer",
    "clip_gradients",
    "cosine_schedule",
    "latest_checkpoint",
    "list_checkpoints",
    "load_trainer_state",
    "progress_bar",
    "save_checkpoint",
]

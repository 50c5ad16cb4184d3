"""Classifier-free guidance: v = v_uncond + w (v_cond - v_uncond).

The wrapper is itself a velocity model, `guided(z_t, t) -> v`, so any solver can use it. The
conditional and unconditional predictions come from one forward pass on a doubled batch whenever
the two sets of conditions can be stacked (same keys, tensors of matching shapes, everything else
equal); otherwise from two passes. Scale 1 makes a single conditional pass and returns it exactly.

The unconditional conditions are whatever the network was trained to see when the instruction
was dropped (a null embedding, an all-False mask, a drop flag): the caller states them.

Shapes: B batch, C latent channels, T latent frames. Condition tensors are batch-first (B, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import torch

from unisono.errors import UnisonoError

_CANNOT_STACK = object()


def _stack(conditional: Any, unconditional: Any, batch: int) -> Any:
    """Join two condition values along the batch, or return _CANNOT_STACK."""
    if isinstance(conditional, torch.Tensor) and isinstance(unconditional, torch.Tensor):
        same_layout = (
            conditional.shape == unconditional.shape
            and conditional.ndim > 0
            and conditional.shape[0] == batch
            and conditional.dtype == unconditional.dtype
            and conditional.device == unconditional.device
        )
        return torch.cat([conditional, unconditional]) if same_layout else _CANNOT_STACK
    if isinstance(conditional, torch.Tensor) or isinstance(unconditional, torch.Tensor):
        return _CANNOT_STACK
    if type(conditional) is not type(unconditional):
        return _CANNOT_STACK
    if isinstance(conditional, (tuple, list)):
        if len(conditional) != len(unconditional):
            return _CANNOT_STACK
        items = [_stack(c, u, batch) for c, u in zip(conditional, unconditional, strict=True)]
        if any(item is _CANNOT_STACK for item in items):
            return _CANNOT_STACK
        if isinstance(conditional, tuple) and hasattr(conditional, "_fields"):
            return type(conditional)(*items)
        return type(conditional)(items)
    if dataclasses.is_dataclass(conditional) and not isinstance(conditional, type):
        joined = {}
        for field in dataclasses.fields(conditional):
            if not field.init:
                continue
            value = _stack(
                getattr(conditional, field.name), getattr(unconditional, field.name), batch
            )
            if value is _CANNOT_STACK:
                return _CANNOT_STACK
            joined[field.name] = value
        return dataclasses.replace(conditional, **joined)
    # Plain settings (ints, strings, None) pass through when both sides agree.
    if conditional is unconditional:
        return conditional
    try:
        equal = bool(conditional == unconditional)
    except (TypeError, ValueError, RuntimeError):
        return _CANNOT_STACK
    return conditional if equal else _CANNOT_STACK


def stack_conditions(
    conditional: Mapping[str, Any], unconditional: Mapping[str, Any], batch: int
) -> dict[str, Any] | None:
    """Conditions for one forward pass on a doubled batch (conditional first), or None.

    Tensors are concatenated along dim 0; tuples, lists and dataclasses are joined field by field;
    other values must be equal on both sides. None means the two sets cannot share a pass.
    """
    if set(conditional) != set(unconditional):
        return None
    joined = {}
    for name in sorted(conditional):
        value = _stack(conditional[name], unconditional[name], batch)
        if value is _CANNOT_STACK:
            return None
        joined[name] = value
    return joined


class ClassifierFreeGuidance:
    """A velocity model that mixes conditional and unconditional predictions.

    Args:
        model: Velocity model `model(z_t, t, **conditions) -> v`.
        conditions: Keyword conditions of the guided request.
        unconditional: The same keys with the instruction (and TA content) dropped.
        scale: Guidance weight w; 1 is plain conditional sampling, 0 unconditional.
        batched: Try one forward pass on a doubled batch; False forces two passes (for models
            whose memory cannot take 2B).
        interval: (t_low, t_high): guide only at flow times t_low <= t <= t_high and make one
            conditional pass elsewhere (Kynkaanniemi et al. 2024, "Applying guidance in a
            limited interval"); (0, 1), the default, guides every step.
    """

    def __init__(
        self,
        model: Callable[..., torch.Tensor],
        *,
        conditions: Mapping[str, Any],
        unconditional: Mapping[str, Any],
        scale: float,
        batched: bool = True,
        interval: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        low, high = (float(v) for v in interval)
        if not 0.0 <= low <= high <= 1.0:
            raise UnisonoError(
                f"guidance interval {interval} must satisfy 0 <= low <= high <= 1 (flow times; "
                "1 is noise): e.g. (0.0, 1.0) guides every step."
            )
        if set(conditions) != set(unconditional):
            raise UnisonoError(
                "Guidance needs the same condition names with and without the instruction; "
                f"got {sorted(conditions)} and {sorted(unconditional)}. Pass a null value "
                "(e.g. an all-False mask) for each dropped condition."
            )
        self.model = model
        self.conditions = dict(conditions)
        self.unconditional = dict(unconditional)
        self.scale = float(scale)
        self.batched = batched
        self.interval = (low, high)
        self._joined: dict[int, dict[str, Any] | None] = {}  # per batch size, built once

    def __call__(self, latent: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
        """Guided velocity for z_t (B, C, T) at times t (B,), shape (B, C, T)."""
        low, high = self.interval
        outside = bool(((flow_time < low) | (flow_time > high)).all())
        if self.scale == 1.0 or outside:
            return self.model(latent, flow_time, **self.conditions)
        conditional, unconditional = self.predict_both(latent, flow_time)
        return unconditional + self.scale * (conditional - unconditional)

    def predict_both(
        self, latent: torch.Tensor, flow_time: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Conditional and unconditional velocities, each (B, C, T)."""
        batch = latent.shape[0]
        if batch not in self._joined:  # the conditions are fixed: stack them once per request
            self._joined[batch] = (
                stack_conditions(self.conditions, self.unconditional, batch)
                if self.batched
                else None
            )
        joined = self._joined[batch]
        if joined is None:
            conditional = self.model(latent, flow_time, **self.conditions)
            unconditional = self.model(latent, flow_time, **self.unconditional)
            return conditional, unconditional
        both = self.model(torch.cat([latent, latent]), torch.cat([flow_time, flow_time]), **joined)
        return both[:batch], both[batch:]

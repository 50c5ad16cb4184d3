"""Exponential moving average of model weights (float32 shadow copies, buffers copied as-is)."""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """Shadow weights updated as shadow = d * shadow + (1 - d) * weight.

    The decay warms up as min(decay, (1 + step) / (10 + step)) so early averages are not dominated
    by the random initialisation.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1); got {decay}")
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Fold the current weights in; `step` is the number of optimisation steps taken."""
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        for key, value in model.state_dict().items():
            shadow = self.shadow[key]
            if shadow.is_floating_point():
                # lerp leaves a weight that did not move (a frozen part) exactly unchanged.
                shadow.lerp_(value.detach().to(shadow.dtype), 1.0 - decay)
            else:
                shadow.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The shadow weights (a state dict loadable into the model)."""
        return self.shadow

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Replace the shadow weights (same keys as the model's state dict)."""
        missing = set(self.shadow) ^ set(state)
        if missing:
            raise KeyError(f"EMA state keys do not match the model: {sorted(missing)[:5]}")
        self.shadow = {k: state[k].detach().clone() for k in self.shadow}

    def copy_to(self, model: nn.Module) -> None:
        """Load the shadow weights into `model`."""
        model.load_state_dict(self.shadow)

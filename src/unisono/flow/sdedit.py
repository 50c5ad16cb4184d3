"""SDEdit: edit by noising the source part of the way and integrating back to data.

The baseline that instruction-trained editing is compared against (Meng et al., SDEdit): the
source latent is moved to flow time t0 along the training path, z_t0 = (1 - t0) z_s + t0 * noise,
and the velocity model then carries it from t0 to 0 under the edit instruction. Small t0 keeps
the source's structure; t0 = 1 ignores the source entirely and is plain sampling; t0 = 0 returns
the source untouched.

Shapes: B batch, C latent channels, T latent frames.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from unisono.errors import UnisonoError
from unisono.flow.path import interpolate
from unisono.flow.solvers import DEFAULT_SWAY, bind_conditions, draw_noise, integrate, time_grid


@torch.no_grad()
def sdedit(
    model: Callable[..., torch.Tensor],
    source_latent: torch.Tensor,
    *,
    start_time: float,
    generator: torch.Generator,
    num_steps: int = 32,
    solver: str = "euler",
    sway: float = DEFAULT_SWAY,
    conditions: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    """Noise a source latent to `start_time` and integrate it back to t = 0.

    Args:
        model: Velocity model `model(z_t, t, **conditions) -> v` (or a ClassifierFreeGuidance).
        source_latent: Latent of the audio to edit, shape (B, C, T).
        start_time: t0 in [0, 1]: how far toward noise the source is pushed.
        generator: The only source of randomness (the noise at t0).
        num_steps: Solver steps between t0 and 0; the swayed grid on [1, 0] is scaled to [t0, 0].
        solver: A name from SOLVERS.
        sway: Sway-sampling coefficient in [-1, 1]; 0 for a uniform grid.
        conditions: Keyword arguments passed to every model call.

    Returns:
        Edited latents, shape (B, C, T). At t0 = 0 this is the source itself, unchanged.
    """
    if not 0.0 <= start_time <= 1.0:
        raise UnisonoError(
            f"SDEdit start time must lie in [0, 1], got {start_time}; 0 keeps the source, "
            "1 is plain sampling, 0.5-0.8 are typical."
        )
    noise = draw_noise(
        tuple(source_latent.shape),
        generator=generator,
        device=source_latent.device,
        dtype=source_latent.dtype,
    )
    if start_time == 0.0:
        return source_latent.clone()
    flow_time = torch.full(
        (source_latent.shape[0],),
        start_time,
        dtype=source_latent.dtype,
        device=source_latent.device,
    )
    noised = interpolate(source_latent, noise, flow_time)
    grid = time_grid(num_steps, sway=sway, start=start_time)
    return integrate(bind_conditions(model, conditions), noised, grid, solver=solver)

"""Fixed-grid ODE solvers that carry noise (t = 1) to data (t = 0) along a velocity field.

The velocity model is any callable `model(z_t, t, **conditions) -> v` with z_t (B, C, T) and
t (B,). Solvers hold no parameters and never draw random numbers: given the starting noise, the
sample is a deterministic function of the model.

Time grid: N steps on N + 1 times from 1 down to 0. Sway sampling (F5-TTS, eq. 6) bends the grid
with t' = t + s (cos(pi t / 2) - 1 + t), written there in F5-TTS's own time u = 1 - t (u = 0 is
noise). With s < 0 the steps crowd toward the noise end, where the flow is least straight; s = 0
is the uniform grid.

Shapes: B batch, C latent channels, T latent frames, N steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from unisono.errors import UnisonoError

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A velocity field bound to its conditions: (z_t (B, C, T), t (B,)) -> v (B, C, T)."""

StepFunction = Callable[[Velocity, torch.Tensor, float, float], torch.Tensor]
"""One solver step: (velocity, z at t, t, t_next) -> z at t_next."""

DEFAULT_SWAY = -1.0


def time_grid(
    num_steps: int,
    *,
    sway: float = DEFAULT_SWAY,
    start: float = 1.0,
) -> list[float]:
    """The N + 1 flow times a sampler visits, from `start` down to 0.

    Args:
        num_steps: Number of solver steps N >= 1.
        sway: Sway coefficient s in [-1, 1] (F5-TTS); 0 gives the uniform grid.
        start: Flow time of the first point, in (0, 1]; SDEdit starts below 1. The swayed grid on
            [1, 0] is scaled by `start`.

    Returns:
        Strictly decreasing times, first `start`, last 0.0 exactly.
    """
    if num_steps < 1:
        raise UnisonoError(f"A sampler needs at least one step, got num_steps={num_steps}.")
    # The map's slope at the noise end is 1 + s, so below s = -1 the grid would turn back; F5-TTS
    # uses s in [-1, 1], where it is strictly monotone.
    if not -1.0 <= sway <= 1.0:
        raise UnisonoError(f"Sway coefficient must lie in [-1, 1], got {sway}; -1 is the default.")
    if not 0.0 < start <= 1.0:
        raise UnisonoError(f"Grid start must lie in (0, 1], got {start}.")
    grid = []
    for index in range(num_steps + 1):
        # u is F5-TTS time: 0 at the noise, 1 at the data.
        u = index / num_steps
        u_swayed = u + sway * (math.cos(math.pi * u / 2.0) - 1.0 + u)
        grid.append(start * (1.0 - u_swayed))
    grid[0], grid[-1] = start, 0.0
    return grid


def euler_step(
    velocity: Velocity, latent: torch.Tensor, time: float, time_next: float
) -> torch.Tensor:
    """First-order step: z + dt v(z, t)."""
    step = time_next - time
    return latent + step * velocity(latent, _times(latent, time))


def midpoint_step(
    velocity: Velocity, latent: torch.Tensor, time: float, time_next: float
) -> torch.Tensor:
    """Second-order explicit midpoint step (two evaluations)."""
    step = time_next - time
    half = latent + 0.5 * step * velocity(latent, _times(latent, time))
    return latent + step * velocity(half, _times(latent, time + 0.5 * step))


def heun_step(
    velocity: Velocity, latent: torch.Tensor, time: float, time_next: float
) -> torch.Tensor:
    """Second-order Heun step: Euler predictor, trapezoidal corrector (two evaluations)."""
    step = time_next - time
    slope = velocity(latent, _times(latent, time))
    predicted = latent + step * slope
    slope_next = velocity(predicted, _times(latent, time_next))
    return latent + 0.5 * step * (slope + slope_next)


def rk4_step(
    velocity: Velocity, latent: torch.Tensor, time: float, time_next: float
) -> torch.Tensor:
    """Classic fourth-order Runge-Kutta step (four evaluations)."""
    step = time_next - time
    mid_time = _times(latent, time + 0.5 * step)
    k1 = velocity(latent, _times(latent, time))
    k2 = velocity(latent + 0.5 * step * k1, mid_time)
    k3 = velocity(latent + 0.5 * step * k2, mid_time)
    k4 = velocity(latent + step * k3, _times(latent, time_next))
    return latent + (step / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _times(latent: torch.Tensor, time: float) -> torch.Tensor:
    """One flow time per example, shape (B,), in the latent's dtype and device."""
    return torch.full((latent.shape[0],), time, dtype=latent.dtype, device=latent.device)


@dataclass(frozen=True)
class Solver:
    """A fixed-grid ODE solver.

    Attributes:
        name: Registry name.
        order: Global order of accuracy (error ~ 1 / N^order).
        evaluations_per_step: Model calls per step.
        step: The step function.
    """

    name: str
    order: int
    evaluations_per_step: int
    step: StepFunction


SOLVERS: dict[str, Solver] = {
    "euler": Solver("euler", 1, 1, euler_step),
    "midpoint": Solver("midpoint", 2, 2, midpoint_step),
    "heun": Solver("heun", 2, 2, heun_step),
    "rk4": Solver("rk4", 4, 4, rk4_step),
}
"""Solvers by name, for the CLI's `--solver` choices."""


def get_solver(name: str) -> Solver:
    """Look a solver up by name, with an error listing the valid names."""
    if name not in SOLVERS:
        raise UnisonoError(f"Unknown solver {name!r}; choose one of {', '.join(SOLVERS)}.")
    return SOLVERS[name]


def bind_conditions(
    model: Callable[..., torch.Tensor], conditions: Mapping[str, Any] | None
) -> Velocity:
    """Turn `model(z_t, t, **conditions)` into a velocity field of (z_t, t) alone."""
    bound = dict(conditions or {})

    def velocity(latent: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
        return model(latent, flow_time, **bound)

    return velocity


def integrate(
    velocity: Velocity,
    latent: torch.Tensor,
    grid: list[float],
    *,
    solver: str = "euler",
) -> torch.Tensor:
    """Carry a latent along the grid with one solver step per interval.

    Args:
        velocity: Velocity field (z_t (B, C, T), t (B,)) -> v (B, C, T).
        latent: State at grid[0], shape (B, C, T).
        grid: Decreasing flow times, from time_grid().
        solver: A name from SOLVERS.

    Returns:
        The state at grid[-1], shape (B, C, T).
    """
    step = get_solver(solver).step
    for time, time_next in zip(grid[:-1], grid[1:], strict=True):
        latent = step(velocity, latent, time, time_next)
    return latent


@torch.no_grad()
def sample(
    model: Callable[..., torch.Tensor],
    noise: torch.Tensor,
    *,
    num_steps: int = 32,
    solver: str = "euler",
    sway: float = DEFAULT_SWAY,
    conditions: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    """Generate latents by integrating the model's velocity from t = 1 (noise) to t = 0 (data).

    Args:
        model: Velocity model `model(z_t, t, **conditions) -> v`; wrap it in
            ClassifierFreeGuidance for guided sampling.
        noise: Starting noise, shape (B, C, T). Draw it with draw_noise() and a seeded generator
            for reproducible samples.
        num_steps: Solver steps N (model calls = N times the solver's evaluations per step).
        solver: A name from SOLVERS.
        sway: Sway-sampling coefficient in [-1, 1]; 0 for a uniform grid.
        conditions: Keyword arguments passed to every model call.

    Returns:
        Latents at t = 0, shape (B, C, T).
    """
    grid = time_grid(num_steps, sway=sway)
    return integrate(bind_conditions(model, conditions), noise, grid, solver=solver)


def draw_noise(
    shape: tuple[int, ...],
    *,
    generator: torch.Generator,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Standard Gaussian noise of a given shape from an explicit generator."""
    device = generator.device if device is None else device
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)

"""Fixed-grid solvers against closed-form flows, the swayed time grid and the registry."""

import math

import numpy as np
import pytest
import torch

from unisono.errors import UnisonoError
from unisono.flow import SOLVERS, draw_noise, get_solver, sample, time_grid

DATA_MEAN, DATA_STD = 0.5, 2.0
STEPS = [8, 16, 32, 64]


def gaussian_velocity(latent: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
    """Exact marginal velocity E[noise - z | z_t] when the data is N(DATA_MEAN, DATA_STD^2).

    z_t is Gaussian with mean (1 - t) mu and variance (1 - t)^2 s^2 + t^2, so the flow is affine
    and carries noise e at t = 1 to mu + s e at t = 0.
    """
    time = flow_time[:, None, None]
    variance = (1 - time) ** 2 * DATA_STD**2 + time**2
    slope = (time - (1 - time) * DATA_STD**2) / variance
    return -DATA_MEAN + slope * (latent - (1 - time) * DATA_MEAN)


def _noise() -> torch.Tensor:
    return torch.tensor([-1.5, 0.3, 1.0, 2.0], dtype=torch.float64).reshape(1, 1, 4)


def _errors(field, noise, exact, solver: str, sway: float) -> list[float]:
    return [
        float((sample(field, noise, num_steps=n, solver=solver, sway=sway) - exact).abs().max())
        for n in STEPS
    ]


def _slope(errors: list[float]) -> float:
    return float(np.polyfit(np.log(STEPS), np.log(errors), 1)[0])


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_linear_ode_converges_with_the_solver_order(name: str) -> None:
    # v = z integrated from t = 1 to 0 takes z(1) = 1 to exp(-1): the textbook case, where the
    # error of an order-p method falls as 1 / N^p with no superconvergence.
    noise = torch.ones(1, 1, 1, dtype=torch.float64)
    exact = torch.full_like(noise, math.exp(-1.0))
    errors = _errors(lambda z, t: z, noise, exact, name, 0.0)
    assert _slope(errors) == pytest.approx(-SOLVERS[name].order, abs=0.15)


@pytest.mark.parametrize("sway", [0.0, -1.0])
@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_gaussian_to_gaussian_flow_converges_to_the_closed_form(name: str, sway: float) -> None:
    noise = _noise()
    exact = DATA_MEAN + DATA_STD * noise
    errors = _errors(gaussian_velocity, noise, exact, name, sway)
    order = SOLVERS[name].order
    # At least the nominal order (midpoint happens to do better on this field).
    assert _slope(errors) < -order + 0.2
    assert errors[-1] < {1: 0.1, 2: 2e-3, 4: 1e-7}[order]
    if name == "euler":
        assert _slope(errors) > -1.2


def test_second_order_beats_euler_at_equal_steps() -> None:
    noise = _noise()
    exact = DATA_MEAN + DATA_STD * noise
    euler = _errors(gaussian_velocity, noise, exact, "euler", 0.0)
    heun = _errors(gaussian_velocity, noise, exact, "heun", 0.0)
    rk4 = _errors(gaussian_velocity, noise, exact, "rk4", 0.0)
    for euler_error, heun_error, rk4_error in zip(euler, heun, rk4, strict=True):
        assert heun_error < euler_error / 15
        assert rk4_error < heun_error / 100


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_model_calls_and_time_arguments(name: str) -> None:
    calls = []

    def model(latent: torch.Tensor, flow_time: torch.Tensor, *, gain: float) -> torch.Tensor:
        assert flow_time.shape == (latent.shape[0],) and flow_time.dtype == latent.dtype
        assert torch.all((flow_time >= 0) & (flow_time <= 1))
        calls.append(float(flow_time[0]))
        return gain * latent

    sample(model, torch.ones(3, 2, 5), num_steps=6, solver=name, conditions={"gain": 0.5})
    assert len(calls) == 6 * SOLVERS[name].evaluations_per_step
    assert calls[0] == 1.0  # every solver starts by evaluating at the noise end


def test_sampling_is_reproducible_from_a_seed() -> None:
    weight = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))

    def model(latent: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
        return torch.tanh(torch.einsum("dc,bct->bdt", weight, latent)) * flow_time[:, None, None]

    def run(seed: int) -> torch.Tensor:
        noise = draw_noise((2, 4, 9), generator=torch.Generator().manual_seed(seed))
        return sample(model, noise, num_steps=5, solver="heun")

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_uniform_and_swayed_grids() -> None:
    assert time_grid(4, sway=0.0) == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0], abs=1e-15)
    # F5-TTS sway with s = -1 maps u to 1 - cos(pi u / 2), so t = cos(pi u / 2) here.
    swayed = time_grid(8, sway=-1.0)
    assert swayed == pytest.approx([math.cos(math.pi * k / 16) for k in range(9)], abs=1e-12)
    for sway in (-1.0, -0.5, 0.0, 0.5, 1.0):
        grid = time_grid(16, sway=sway)
        assert grid[0] == 1.0 and grid[-1] == 0.0 and len(grid) == 17
        assert all(later < earlier for earlier, later in zip(grid, grid[1:], strict=False))
    # s < 0 crowds steps toward the noise end (t = 1).
    assert swayed[0] - swayed[1] < swayed[-2] - swayed[-1]
    scaled = time_grid(8, sway=-1.0, start=0.4)
    assert scaled[0] == 0.4 and scaled[-1] == 0.0
    assert scaled == pytest.approx([0.4 * t for t in swayed], abs=1e-15)


def test_bad_grid_and_solver_arguments() -> None:
    with pytest.raises(UnisonoError, match="at least one step"):
        time_grid(0)
    with pytest.raises(UnisonoError, match=r"\[-1, 1\]"):
        time_grid(4, sway=-1.5)
    with pytest.raises(UnisonoError, match="euler, midpoint, heun, rk4"):
        get_solver("dopri5")
    assert [SOLVERS[name].order for name in ("euler", "midpoint", "heun", "rk4")] == [1, 2, 2, 4]

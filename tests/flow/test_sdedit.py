"""SDEdit: noise the source to t0 and integrate back."""

import pytest
import torch

from unisono.errors import UnisonoError
from unisono.flow import draw_noise, interpolate, sample, sdedit

DATA_MEAN, DATA_STD = 0.5, 2.0


def gaussian_velocity(latent: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
    """Exact velocity when the data is N(DATA_MEAN, DATA_STD^2) (see test_solvers)."""
    time = flow_time[:, None, None]
    variance = (1 - time) ** 2 * DATA_STD**2 + time**2
    slope = (time - (1 - time) * DATA_STD**2) / variance
    return -DATA_MEAN + slope * (latent - (1 - time) * DATA_MEAN)


def _source() -> torch.Tensor:
    return torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_start_time_zero_returns_the_source_without_calling_the_model() -> None:
    def model(latent: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
        raise AssertionError("the model must not run at t0 = 0")

    source = _source()
    edited = sdedit(model, source, start_time=0.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(edited, source)


def test_start_time_one_is_plain_sampling_from_the_same_noise() -> None:
    source = _source()
    edited = sdedit(
        gaussian_velocity,
        source,
        start_time=1.0,
        num_steps=6,
        solver="heun",
        generator=torch.Generator().manual_seed(2),
    )
    noise = draw_noise(
        tuple(source.shape), generator=torch.Generator().manual_seed(2), dtype=torch.float64
    )
    assert torch.equal(edited, sample(gaussian_velocity, noise, num_steps=6, solver="heun"))


def test_matches_the_closed_form_flow_from_the_noised_source() -> None:
    # For Gaussian data the flow is affine: from z at t0 it lands on
    # mu + s / sigma(t0) * (z - (1 - t0) mu), with sigma(t)^2 = (1 - t)^2 s^2 + t^2.
    source, start = _source(), 0.6
    edited = sdedit(
        gaussian_velocity,
        source,
        start_time=start,
        num_steps=32,
        solver="rk4",
        generator=torch.Generator().manual_seed(3),
    )
    noise = draw_noise(
        tuple(source.shape), generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    noised = interpolate(source, noise, torch.full((2,), start, dtype=torch.float64))
    sigma = ((1 - start) ** 2 * DATA_STD**2 + start**2) ** 0.5
    exact = DATA_MEAN + DATA_STD / sigma * (noised - (1 - start) * DATA_MEAN)
    torch.testing.assert_close(edited, exact, rtol=0, atol=1e-7)


def test_small_start_time_stays_near_the_source_and_is_seeded() -> None:
    source = _source()

    def run(start: float, seed: int) -> torch.Tensor:
        return sdedit(
            gaussian_velocity,
            source,
            start_time=start,
            num_steps=8,
            solver="heun",
            generator=torch.Generator().manual_seed(seed),
        )

    assert torch.equal(run(0.3, 5), run(0.3, 5))
    assert not torch.equal(run(0.3, 5), run(0.3, 6))
    near = (run(0.05, 5) - source).abs().mean()
    far = (run(0.9, 5) - source).abs().mean()
    assert near < 0.5 * far


def test_start_time_out_of_range_is_an_error() -> None:
    with pytest.raises(UnisonoError, match=r"\[0, 1\]"):
        sdedit(gaussian_velocity, _source(), start_time=1.2, generator=torch.Generator())

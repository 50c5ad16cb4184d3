"""Probability path, logit-normal flow times and the masked loss."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from unisono.errors import UnisonoError
from unisono.flow import (
    FlowMatching,
    interpolate,
    masked_mse,
    sample_logit_normal,
    target_velocity,
)
from unisono.flow.path import change_weights


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_path_endpoints_and_velocity_is_the_time_derivative() -> None:
    data = torch.randn(3, 4, 5, generator=_generator(0), dtype=torch.float64)
    noise = torch.randn(3, 4, 5, generator=_generator(1), dtype=torch.float64)
    assert torch.equal(interpolate(data, noise, torch.zeros(3, dtype=torch.float64)), data)
    assert torch.equal(interpolate(data, noise, torch.ones(3, dtype=torch.float64)), noise)
    flow_time = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    step = 1e-6
    derivative = (
        interpolate(data, noise, flow_time + step) - interpolate(data, noise, flow_time)
    ) / step
    torch.testing.assert_close(derivative, target_velocity(data, noise), rtol=0, atol=1e-8)
    # Per-example times: row 1 sits halfway.
    torch.testing.assert_close(interpolate(data, noise, flow_time)[1], 0.5 * (data[1] + noise[1]))


def test_path_rejects_mismatched_shapes() -> None:
    with pytest.raises(UnisonoError, match="one time per example"):
        interpolate(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), torch.zeros(3))
    with pytest.raises(UnisonoError, match="noise"):
        interpolate(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5), torch.zeros(2))


def test_logit_normal_range_median_and_distribution() -> None:
    mean, std = 0.7, 1.3
    times = sample_logit_normal(20_000, generator=_generator(3), mean=mean, std=std)
    assert times.shape == (20_000,) and times.dtype == torch.float32
    assert bool(((times > 0) & (times < 1)).all())
    sigmoid_mean = 1.0 / (1.0 + math.exp(-mean))
    assert abs(float(times.median()) - sigmoid_mean) < 0.01
    logits = np.log(times.double().numpy()) - np.log1p(-times.double().numpy())
    assert stats.kstest(logits, "norm", args=(mean, std)).pvalue > 0.01
    # Default: median 0.5.
    default = sample_logit_normal(20_000, generator=_generator(4))
    assert abs(float(default.median()) - 0.5) < 0.01


def test_logit_normal_is_seeded() -> None:
    first = sample_logit_normal(16, generator=_generator(5))
    assert torch.equal(first, sample_logit_normal(16, generator=_generator(5)))
    assert not torch.equal(first, sample_logit_normal(16, generator=_generator(6)))
    with pytest.raises(UnisonoError, match="positive"):
        sample_logit_normal(4, generator=_generator(0), std=0.0)


def test_masked_mse_equals_hand_computation() -> None:
    rng = np.random.default_rng(0)
    prediction = rng.normal(size=(2, 3, 4))
    target = rng.normal(size=(2, 3, 4))
    mask = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)
    squared = (prediction - target) ** 2
    expected = sum(squared[b, :, t].sum() for b in range(2) for t in range(4) if mask[b, t])
    expected /= mask.sum() * 3
    loss = masked_mse(
        torch.from_numpy(prediction), torch.from_numpy(target), torch.from_numpy(mask)
    )
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    assert float(
        masked_mse(torch.from_numpy(prediction), torch.from_numpy(target))
    ) == pytest.approx(squared.mean(), rel=1e-12)


def test_masked_frames_change_nothing_and_get_no_gradient() -> None:
    prediction = torch.randn(2, 3, 6, generator=_generator(7), requires_grad=True)
    target = torch.randn(2, 3, 6, generator=_generator(8))
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0]], dtype=torch.bool)
    loss = masked_mse(prediction, target, mask)
    loss.backward()
    assert torch.all(prediction.grad[~mask.unsqueeze(1).expand(-1, 3, -1)] == 0)
    changed_target = target.clone()
    changed_target[~mask.unsqueeze(1).expand(-1, 3, -1)] = float("nan")
    changed_prediction = prediction.detach().clone()
    changed_prediction[~mask.unsqueeze(1).expand(-1, 3, -1)] = 1e6
    assert torch.equal(masked_mse(changed_prediction, changed_target, mask), loss.detach())


def test_all_masked_rows_contribute_nothing_not_nan() -> None:
    prediction = torch.randn(3, 2, 5, generator=_generator(9), requires_grad=True)
    target = torch.randn(3, 2, 5, generator=_generator(10))
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    with_empty_row = masked_mse(prediction, target, mask)
    keep = torch.tensor([0, 2])
    without_row = masked_mse(prediction[keep], target[keep], mask[keep])
    torch.testing.assert_close(with_empty_row, without_row, rtol=1e-6, atol=0)
    empty = masked_mse(prediction, target, torch.zeros(3, 5, dtype=torch.bool))
    assert float(empty.detach()) == 0.0
    empty.backward()
    assert torch.all(prediction.grad == 0)


def test_masked_mse_rejects_bad_mask_shape() -> None:
    with pytest.raises(UnisonoError, match=r"\(B, T\)"):
        masked_mse(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), torch.ones(2, 3, dtype=torch.bool))


def test_flow_matching_training_example_is_consistent_and_seeded() -> None:
    flow = FlowMatching(time_mean=-0.5, time_std=0.8)
    data = torch.randn(4, 3, 7, generator=_generator(11))
    example = flow.training_example(data, generator=_generator(12))
    assert example.flow_time.shape == (4,)
    torch.testing.assert_close(example.noised, interpolate(data, example.noise, example.flow_time))
    assert torch.equal(example.target, example.noise - data)
    again = flow.training_example(data, generator=_generator(12))
    assert torch.equal(again.noised, example.noised) and torch.equal(
        again.flow_time, example.flow_time
    )
    # The exact velocity has zero loss; a zero prediction has the mean squared target as loss.
    assert float(flow.loss(example.target, example)) == 0.0
    zero_loss = flow.loss(torch.zeros_like(data), example)
    torch.testing.assert_close(zero_loss, example.target.square().mean())
    with pytest.raises(UnisonoError, match="time_std"):
        FlowMatching(time_std=-1.0)


def test_change_weights_favour_changed_frames_by_their_share() -> None:
    """Target = source except frame 1 (change 4 per element) and frame 2 (change 1): mean change over
    the 4 masked frames is (16 + 1) / 4, so w = 1 + s d / mean on those, 1 on copies, 0 masked."""
    source = torch.zeros(1, 2, 5)
    target = source.clone()
    target[0, :, 1] = 4.0
    target[0, :, 2] = 1.0
    mask = torch.tensor([[True, True, True, True, False]])
    weights = change_weights(target, source, mask, 2.0)
    mean = (16.0 + 1.0) / 4
    expected = torch.tensor([[1.0, 1 + 2 * 16 / mean, 1 + 2 * 1 / mean, 1.0, 0.0]])
    assert torch.allclose(weights, expected)
    assert torch.equal(change_weights(target, source, mask, 0.0), mask.float())
    # No change at all: the mask; a change spread evenly: the plain loss after the weighted mean.
    assert torch.equal(change_weights(source, source, mask, 3.0), mask.float())
    even = source + 1.0
    prediction, goal = torch.randn(1, 2, 5), torch.randn(1, 2, 5)
    assert torch.allclose(masked_mse(prediction, goal, change_weights(even, source, mask, 3.0)),
                          masked_mse(prediction, goal, mask))
    with pytest.raises(UnisonoError, match="change_weight must be >= 0"):
        change_weights(target, source, mask, -1.0)

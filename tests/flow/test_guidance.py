"""Classifier-free guidance: the mixing formula, scale 1, and one batched pass."""

from dataclasses import dataclass
from typing import NamedTuple

import pytest
import torch

from unisono.errors import UnisonoError
from unisono.flow import ClassifierFreeGuidance, draw_noise, sample, stack_conditions


class CountingModel:
    """A conditioned velocity model whose examples never interact, recording batch sizes."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def __call__(
        self,
        latent: torch.Tensor,
        flow_time: torch.Tensor,
        *,
        text: torch.Tensor,
        text_mask: torch.Tensor,
        gain: float = 1.0,
    ) -> torch.Tensor:
        self.batch_sizes.append(latent.shape[0])
        pooled = (text * text_mask[..., None]).sum(1) / text_mask.sum(1, keepdim=True).clamp(min=1)
        return gain * (torch.sin(latent) * pooled[:, :, None] + flow_time[:, None, None])


def _inputs(text_tokens: int = 5) -> tuple[torch.Tensor, torch.Tensor, dict, dict]:
    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(3, 4, 6, generator=generator)
    flow_time = torch.tensor([0.2, 0.5, 0.9])
    conditions = {
        "text": torch.randn(3, text_tokens, 4, generator=generator),
        "text_mask": torch.ones(3, text_tokens, dtype=torch.bool),
        "gain": 2.0,
    }
    unconditional = {
        "text": torch.zeros(3, text_tokens, 4),
        "text_mask": torch.zeros(3, text_tokens, dtype=torch.bool),
        "gain": 2.0,
    }
    return latent, flow_time, conditions, unconditional


def test_scale_one_is_exactly_the_conditional_prediction_in_one_call() -> None:
    latent, flow_time, conditions, unconditional = _inputs()
    model = CountingModel()
    guided = ClassifierFreeGuidance(
        model, conditions=conditions, unconditional=unconditional, scale=1.0
    )
    assert torch.equal(guided(latent, flow_time), model(latent, flow_time, **conditions))
    assert model.batch_sizes == [3, 3]


@pytest.mark.parametrize("scale", [0.0, 2.5, 4.5])
def test_guided_velocity_matches_the_formula_in_one_batched_pass(scale: float) -> None:
    latent, flow_time, conditions, unconditional = _inputs()
    model = CountingModel()
    guided = ClassifierFreeGuidance(
        model, conditions=conditions, unconditional=unconditional, scale=scale
    )
    velocity = guided(latent, flow_time)
    assert model.batch_sizes == [6]
    v_cond = model(latent, flow_time, **conditions)
    v_uncond = model(latent, flow_time, **unconditional)
    torch.testing.assert_close(velocity, v_uncond + scale * (v_cond - v_uncond))
    if scale == 0.0:
        torch.testing.assert_close(velocity, v_uncond)


def test_unstackable_conditions_fall_back_to_two_passes() -> None:
    latent, flow_time, conditions, _ = _inputs()
    # A shorter null prompt cannot share a batch with the real one.
    unconditional = {
        "text": torch.zeros(3, 1, 4),
        "text_mask": torch.zeros(3, 1, dtype=torch.bool),
        "gain": 2.0,
    }
    model = CountingModel()
    guided = ClassifierFreeGuidance(
        model, conditions=conditions, unconditional=unconditional, scale=3.0
    )
    velocity = guided(latent, flow_time)
    assert model.batch_sizes == [3, 3]
    v_cond = model(latent, flow_time, **conditions)
    v_uncond = model(latent, flow_time, **unconditional)
    torch.testing.assert_close(velocity, v_uncond + 3.0 * (v_cond - v_uncond))
    # Forcing two passes on stackable conditions gives the same numbers as one pass.
    latent, flow_time, conditions, unconditional = _inputs()
    one_pass = ClassifierFreeGuidance(
        CountingModel(), conditions=conditions, unconditional=unconditional, scale=3.0
    )
    two_pass = ClassifierFreeGuidance(
        CountingModel(),
        conditions=conditions,
        unconditional=unconditional,
        scale=3.0,
        batched=False,
    )
    torch.testing.assert_close(one_pass(latent, flow_time), two_pass(latent, flow_time))


class Encoding(NamedTuple):
    states: tuple[torch.Tensor, ...]
    mask: torch.Tensor


@dataclass(frozen=True)
class Content:
    features: torch.Tensor
    name: str


def test_stack_conditions_joins_nested_values_and_refuses_mismatches() -> None:
    a, b = torch.ones(2, 3), torch.zeros(2, 3)
    joined = stack_conditions(
        {"text": Encoding((a, a), a > 0), "content": Content(a, "notes"), "steps": None},
        {"text": Encoding((b, b), b > 0), "content": Content(b, "notes"), "steps": None},
        batch=2,
    )
    assert joined is not None
    assert isinstance(joined["text"], Encoding) and joined["text"].states[1].shape == (4, 3)
    assert torch.equal(
        joined["text"].mask, torch.tensor([True] * 2 + [False] * 2)[:, None].expand(4, 3)
    )
    assert isinstance(joined["content"], Content) and joined["content"].features.shape == (4, 3)
    assert joined["steps"] is None
    assert stack_conditions({"x": a, "mode": "a"}, {"x": b, "mode": "b"}, batch=2) is None
    assert stack_conditions({"x": a}, {"x": None}, batch=2) is None
    assert stack_conditions({"x": a}, {"x": b.long()}, batch=2) is None
    assert stack_conditions({"x": torch.ones(3, 3)}, {"x": torch.ones(3, 3)}, batch=2) is None


def test_mismatched_condition_names_are_an_error() -> None:
    with pytest.raises(UnisonoError, match="null value"):
        ClassifierFreeGuidance(
            CountingModel(), conditions={"text": torch.ones(1)}, unconditional={}, scale=2.0
        )


def test_guided_sampling_at_scale_zero_is_unconditional_sampling() -> None:
    _, _, conditions, unconditional = _inputs()
    noise = draw_noise((3, 4, 6), generator=torch.Generator().manual_seed(4))
    guided = ClassifierFreeGuidance(
        CountingModel(), conditions=conditions, unconditional=unconditional, scale=0.0
    )
    torch.testing.assert_close(
        sample(guided, noise, num_steps=4, solver="midpoint"),
        sample(CountingModel(), noise, num_steps=4, solver="midpoint", conditions=unconditional),
    )


def test_guidance_interval_guides_inside_and_is_conditional_outside() -> None:
    latent, _, conditions, unconditional = _inputs()
    model = CountingModel()
    guided = ClassifierFreeGuidance(
        model, conditions=conditions, unconditional=unconditional, scale=3.0, interval=(0.3, 0.7)
    )
    for t, inside in ((0.1, False), (0.3, True), (0.5, True), (0.7, True), (0.95, False)):
        flow_time = torch.full((3,), t)
        model.batch_sizes.clear()
        velocity = guided(latent, flow_time)
        v_cond = model(latent, flow_time, **conditions)
        v_uncond = model(latent, flow_time, **unconditional)
        expected = v_uncond + 3.0 * (v_cond - v_uncond) if inside else v_cond
        torch.testing.assert_close(velocity, expected)
        assert model.batch_sizes[0] == (6 if inside else 3)  # one conditional pass outside


@pytest.mark.parametrize("interval", [(0.6, 0.4), (-0.1, 0.5), (0.2, 1.5)])
def test_bad_guidance_interval_is_an_error(interval) -> None:
    _, _, conditions, unconditional = _inputs()
    with pytest.raises(UnisonoError, match="guidance interval"):
        ClassifierFreeGuidance(CountingModel(), conditions=conditions,
                               unconditional=unconditional, scale=2.0, interval=interval)

"""Growing a generator deeper (`unisono.models.dit.grow`): where the old blocks go, the grown
model computes exactly what the smaller one did, and growing refuses what it cannot do."""

import dataclasses

import pytest
import torch

from unisono.errors import UnisonoError
from unisono.models.dit import DiT, DiTConfig
from unisono.models.dit.grow import block_positions, grow_from
from unisono.models.text_encoder import fusion_layers

SMALL = DiTConfig(latent_channels=8, width=32, depth=3, heads=2, mlp_ratio=2.0, text_width=16,
                  text_layers=3, content_dim=16, content_vocab=10, caption_vocab=50,
                  caption_stream=True, caption_length=6, caption_mask_token=1, caption_end_token=2, duration_hidden=8)


def test_old_blocks_keep_their_instruction_layer_and_order() -> None:
    six = dataclasses.replace(SMALL, depth=6, text_layers=6)
    twelve = dataclasses.replace(six, depth=12)
    positions = block_positions(six, twelve)
    assert positions == [2, 4, 6, 8, 10, 11]
    new_layers = fusion_layers("deep", num_blocks=12, num_layers=6)
    assert [new_layers[p] for p in positions] == [1, 2, 3, 4, 5, 6]
    last = dataclasses.replace(SMALL, fusion="last")
    assert block_positions(last, dataclasses.replace(last, depth=5)) == [2, 3, 4]
    # 3 blocks read layers 1, 3, 6 of 6; 4 blocks read 1, 2, 4, 6: layer 3 has no place.
    three = dataclasses.replace(SMALL, text_layers=6)
    with pytest.raises(UnisonoError, match="reads instruction layer 3"):
        block_positions(three, dataclasses.replace(three, depth=4))


def _inputs(config: DiTConfig):
    generator = torch.Generator().manual_seed(0)
    noised = torch.randn(2, config.latent_channels, 12, generator=generator)
    states = tuple(torch.randn(2, 5, config.text_width, generator=generator)
                   for _ in range(config.text_layers + 1))
    conditions = {"text_states": states, "text_mask": torch.ones(2, 5, dtype=torch.bool),
                  "source_latent": torch.randn(noised.shape, generator=generator),
                  "task_tag": torch.ones(2, 12)}
    return noised, torch.tensor([0.3, 0.9]), conditions


def _trained_like(config: DiTConfig) -> DiT:
    """A model whose every weight is non-zero (a fresh one has zero gates and heads)."""
    model = DiT(config)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.1 * torch.randn(parameter.shape, generator=generator))
    return model


def test_the_grown_model_computes_what_the_smaller_one_did(tmp_path) -> None:
    small = _trained_like(SMALL).eval()
    small.save_pretrained(tmp_path / "small")
    grown = DiT(dataclasses.replace(SMALL, depth=7)).eval()
    positions = grow_from(grown, tmp_path / "small", weights="model")
    assert positions == block_positions(SMALL, grown.config)
    noised, time, conditions = _inputs(SMALL)
    tokens = torch.tensor([[1, 1, 7, 1, 2, 0], [9, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        torch.testing.assert_close(grown(noised, time, **conditions),
                                   small(noised, time, **conditions), atol=1e-6, rtol=0)
        caption = {k: conditions[k] for k in ("text_states", "text_mask")}
        torch.testing.assert_close(grown.caption_logits(noised, tokens, **caption),
                                   small.caption_logits(noised, tokens, **caption),
                                   atol=1e-6, rtol=0)
    # The new blocks learn: their output projections get gradients.
    grown.train()
    grown(noised, time, **conditions).square().mean().backward()
    fresh = next(p for p in range(7) if p not in positions)
    assert grown.blocks[fresh].audio.output.weight.grad.abs().sum() > 0


def test_growing_refuses_what_it_cannot_grow(tmp_path) -> None:
    _trained_like(SMALL).save_pretrained(tmp_path / "small")
    with pytest.raises(UnisonoError, match="differ in heads, width"):
        grow_from(DiT(dataclasses.replace(SMALL, depth=6, width=48, heads=3)), tmp_path / "small")
    with pytest.raises(UnisonoError, match="needs a shallower generator"):
        grow_from(DiT(SMALL), tmp_path / "small")

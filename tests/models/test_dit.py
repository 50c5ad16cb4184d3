"""The MM-DiT backbone: zero-init, deep-fusion layer picks, padding isolation, guidance, save/load."""

from fractions import Fraction
from math import floor

import pytest
import torch

from unisono.errors import UnisonoError
from unisono.flow import ClassifierFreeGuidance
from unisono.models.dit import DiT, DiTConfig, dit_preset

B, C, T, N, DT, L = 2, 8, 12, 5, 16, 6


def tiny_config(**changes) -> DiTConfig:
    values = dict(latent_channels=C, width=32, depth=3, heads=2, mlp_ratio=2.0, text_width=DT,
                  text_layers=L, content_dim=8, duration_hidden=16)
    values.update(changes)
    return DiTConfig(**values)


def randomise(model: DiT, seed: int = 0) -> DiT:
    """Give every parameter (zero-initialised ones too) random values, except the embedder
    weights from z_s and m, so tests see a model that actually uses all its paths."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name == "embedder.conv.weight":
                param[:, :C].normal_(0.0, 0.2, generator=generator)
            else:
                param.normal_(0.0, 0.2, generator=generator)
    return model.eval()


def inputs(seed: int = 1, batch: int = B, frames: int = T):
    generator = torch.Generator().manual_seed(seed)
    noised = torch.randn(batch, C, frames, generator=generator)
    flow_time = torch.rand(batch, generator=generator)
    states = tuple(torch.randn(batch, N, DT, generator=generator) for _ in range(L + 1))
    mask = torch.ones(batch, N, dtype=torch.bool)
    return noised, flow_time, states, mask


def test_presets_build_and_base_matches_unison_d24() -> None:
    base = dit_preset("base")
    assert (base.depth, base.width, base.heads) == (24, 1024, 8)
    tiny = DiT(dit_preset("tiny"))
    assert 4e6 < tiny.num_parameters < 10e6
    with pytest.raises(UnisonoError, match="Unknown generator preset"):
        dit_preset("huge")


def test_fresh_model_ignores_source_and_task_tag() -> None:
    torch.manual_seed(0)
    model = DiT(tiny_config())
    # Open the gates and the head so the output depends on the tokens at all...
    with torch.no_grad():
        for module in (model.modulation[1], model.final_modulation[1], model.head):
            module.weight.normal_(0, 0.2)
    noised, flow_time, states, mask = inputs()
    base = model(noised, flow_time, text_states=states, text_mask=mask)
    assert base.abs().max() > 1e-3
    # ...then z_s and m may change freely: their embedder weights start at zero (UNISON 3.4).
    other = model(noised, flow_time, text_states=states, text_mask=mask,
                  source_latent=torch.randn(B, C, T), task_tag=torch.full((B, T), 2.0))
    torch.testing.assert_close(other, base, rtol=0, atol=0)
    assert torch.count_nonzero(model.embedder.conv.weight[:, C:]) == 0
    # A fresh model's velocity is exactly zero: the head starts at zero (DiT).
    fresh = DiT(tiny_config())
    assert torch.count_nonzero(fresh(noised, flow_time, text_states=states, text_mask=mask)) == 0


@pytest.mark.parametrize(("depth", "layers"), [(6, 6), (4, 6), (24, 28), (3, 6), (7, 4)])
def test_deep_fusion_layer_picks_follow_unison_eq2(depth: int, layers: int) -> None:
    model = DiT(tiny_config(depth=depth, text_layers=layers))
    expected = tuple(
        floor(1 + Fraction(k * (layers - 1), depth - 1)) for k in range(depth)
    )
    assert model.text_layers == expected
    assert model.text_layers[0] == 1 and model.text_layers[-1] == layers
    assert DiT(tiny_config(depth=depth, text_layers=layers, fusion="penultimate")).text_layers == (
        (layers - 1,) * depth
    )


def test_each_block_reads_only_its_encoder_layer() -> None:
    model = randomise(DiT(tiny_config(depth=3)))  # layers 1, 3, 6 (and 6 pooled)
    noised, flow_time, states, mask = inputs()
    base = model(noised, flow_time, text_states=states, text_mask=mask)
    for index in range(L + 1):
        changed = list(states)
        changed[index] = changed[index] + 1.0
        out = model(noised, flow_time, text_states=tuple(changed), text_mask=mask)
        used = index in model.text_layers or index == L
        assert (not torch.allclose(out, base)) == used, index


@pytest.mark.parametrize(("patch", "frames"), [(1, T), (2, T - 1), (3, T - 1)])
def test_padding_frames_do_not_change_real_frames(patch, frames) -> None:
    model = randomise(DiT(tiny_config(patch_size=patch)))
    noised, flow_time, states, mask = inputs(batch=1, frames=frames)
    alone = model(noised, flow_time, text_states=states, text_mask=mask)
    assert alone.shape == (1, C, frames)
    padded_latent = torch.cat([noised, 50 * torch.randn(1, C, 7)], dim=2)
    frame_mask = torch.zeros(1, frames + 7, dtype=torch.bool)
    frame_mask[:, :frames] = True
    padded = model(padded_latent, flow_time, text_states=states, text_mask=mask,
                   frame_mask=frame_mask)
    torch.testing.assert_close(padded[..., :frames], alone, rtol=1e-5, atol=1e-5)
    # Padded instruction tokens are ignored too.
    long_states = tuple(torch.cat([s, 9 * torch.randn(1, 3, DT)], dim=1) for s in states)
    long_mask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], dim=1)
    out = model(noised, flow_time, text_states=long_states, text_mask=long_mask)
    torch.testing.assert_close(out, alone, rtol=1e-5, atol=1e-5)


def test_guidance_scale_one_is_the_conditional_prediction_and_batching_is_exact() -> None:
    model = randomise(DiT(tiny_config()))
    noised, flow_time, states, mask = inputs()
    dropped = torch.zeros_like(mask)
    conditions = {"text_states": states, "text_mask": mask,
                  "instruction": model.instruction_inputs(states, mask)}
    unconditional = {"text_states": states, "text_mask": dropped,
                     "instruction": model.instruction_inputs(states, dropped)}
    conditional = model(noised, flow_time, text_states=states, text_mask=mask)
    guided = ClassifierFreeGuidance(model, conditions=conditions, unconditional=unconditional,
                                    scale=1.0)
    torch.testing.assert_close(guided(noised, flow_time), conditional, rtol=0, atol=0)
    uncond = model(noised, flow_time, text_states=states, text_mask=dropped)
    for batched in (True, False):
        guided = ClassifierFreeGuidance(model, conditions=conditions,
                                        unconditional=unconditional, scale=3.0, batched=batched)
        torch.testing.assert_close(guided(noised, flow_time), uncond + 3.0 * (conditional - uncond),
                                   rtol=1e-4, atol=1e-5)


def test_content_reaches_frames_and_absent_content_uses_the_dummy() -> None:
    model = randomise(DiT(tiny_config()))
    noised, flow_time, states, mask = inputs()
    content = torch.randn(B, T, 8)
    base = model(noised, flow_time, text_states=states, text_mask=mask)
    with_content = model(noised, flow_time, text_states=states, text_mask=mask, content=content)
    assert not torch.allclose(with_content, base)
    # A row flagged as having no content equals the no-content output.
    flags = torch.tensor([False, True])
    mixed = model(noised, flow_time, text_states=states, text_mask=mask, content=content,
                  content_mask=flags)
    torch.testing.assert_close(mixed[0], base[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mixed[1], with_content[1], rtol=1e-5, atol=1e-5)


def test_save_load_round_trip_is_exact(tmp_path) -> None:
    model = randomise(DiT(tiny_config()))
    ema = {k: v + 1.0 for k, v in model.state_dict().items()}
    model.save_pretrained(tmp_path / "m", ema_state=ema)
    loaded = DiT.from_pretrained(tmp_path / "m", weights="model")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    loaded_ema = DiT.from_pretrained(tmp_path / "m")  # auto: EMA
    assert torch.equal(loaded_ema.head.weight, ema["head.weight"])
    assert loaded.config == model.config


def test_patchify_is_inverted_and_frames_map_to_their_patch() -> None:
    from unisono.models.dit.layers import patch_mask, patchify, unpatchify

    frames = torch.arange(2 * 3 * 7, dtype=torch.float32).view(2, 3, 7)
    patches = patchify(frames, 2)
    assert patches.shape == (2, 6, 4)
    # Channel x of frame j in patch q sits at row x * p + j, column q.
    assert patches[1, 2 * 2 + 1, 2] == frames[1, 2, 5]
    assert torch.equal(patches[:, :, 3].view(2, 3, 2)[..., 1], torch.zeros(2, 3))  # zero pad
    assert torch.equal(unpatchify(patches.transpose(1, 2), 2, 7), frames)
    mask = torch.tensor([[True] * 5 + [False] * 2])
    assert patch_mask(mask, 2).tolist() == [[True, True, True, False]]


def test_a_fresh_patched_model_ignores_source_and_tag() -> None:
    model = DiT(tiny_config(patch_size=2))
    with torch.no_grad():
        model.head.weight.normal_(0.0, 0.2)  # a non-zero output so the comparison means something
    noised, flow_time, states, mask = inputs()
    plain = model(noised, flow_time, text_states=states, text_mask=mask)
    sourced = model(noised, flow_time, text_states=states, text_mask=mask,
                    source_latent=torch.randn(B, C, T), task_tag=torch.ones(B, T))
    assert plain.abs().sum() > 0
    torch.testing.assert_close(plain, sourced)


def test_old_folder_loads_into_a_captioning_config(tmp_path) -> None:
    model = randomise(DiT(tiny_config()))
    model.save_pretrained(tmp_path / "old")
    config_file = tmp_path / "old" / "config.json"
    text = config_file.read_text().replace('"caption_stream": false', '"caption_stream": true')
    config_file.write_text(text.replace('"caption_vocab": 0', '"caption_vocab": 200'))
    loaded = DiT.from_pretrained(tmp_path / "old")
    assert loaded.config.caption_stream
    assert torch.equal(loaded.head.weight, model.head.weight)


def test_bad_inputs_and_folders(tmp_path) -> None:
    model = DiT(tiny_config())
    noised, flow_time, states, mask = inputs()
    with pytest.raises(UnisonoError, match="channels"):
        model(torch.randn(B, C + 1, T), flow_time, text_states=states, text_mask=mask)
    with pytest.raises(UnisonoError, match="hidden states"):
        model(noised, flow_time, text_states=states[:-1], text_mask=mask)
    with pytest.raises(UnisonoError, match="not a generator folder"):
        DiT.from_pretrained(tmp_path)
    model.save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(UnisonoError, match="missing"):
        DiT.from_pretrained(tmp_path / "m")
    with pytest.raises(UnisonoError, match="divisible"):
        tiny_config(width=30, heads=4)


def test_expand_to_frames_repeats_symbols_by_their_durations() -> None:
    from unisono.models.dit.content import expand_to_frames

    features = torch.arange(2 * 3 * 2, dtype=torch.float32).view(2, 3, 2)
    frames = torch.tensor([[2, 0, 3], [1, 1, 0]])
    out = expand_to_frames(features, frames, total=6)
    expected = torch.zeros(2, 6, 2)
    expected[0, 0:2] = features[0, 0]
    expected[0, 2:5] = features[0, 2]
    expected[1, 0] = features[1, 0]
    expected[1, 1] = features[1, 1]
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    assert expand_to_frames(features, frames, total=3)[0, 2].equal(features[0, 2])


def test_content_encoder_scales_duration_gradients_and_expands() -> None:
    model = randomise(DiT(tiny_config(content_vocab=10, content_dim=8)))
    symbols = torch.tensor([[3, 4, 5, 0]])
    pitch = torch.tensor([[0, 61, 61, 0]])
    mask = symbols > 0
    frames = torch.tensor([[2, 3, 4, 0]])
    content, log_frames, used = model.encode_content(symbols, pitch, mask, total_frames=T,
                                                     frames=frames)
    assert content.shape == (1, T, 8) and torch.equal(used, frames)
    assert content[0, 9:].abs().sum() == 0 and content[0, :9].abs().sum() > 0
    # The duration loss reaches the shared encoder scaled by 0.1 (UniFlow-Audio D.2).
    encoder = model.content_encoder
    encoder.zero_grad()
    log_frames.sum().backward()
    scaled = encoder.symbols.weight.grad.clone()
    encoder.zero_grad()
    features, _ = encoder(symbols, pitch, mask)
    plain = encoder.duration(features.transpose(1, 2)).sum()
    plain.backward()
    torch.testing.assert_close(scaled, 0.1 * encoder.symbols.weight.grad, rtol=1e-4, atol=1e-7)
    # Predicted durations: at least one frame per real symbol, none for padding.
    _, _, predicted = model.encode_content(symbols, pitch, mask, total_frames=T)
    assert (predicted[0, :3] >= 1).all() and predicted[0, 3] == 0
    with pytest.raises(UnisonoError, match="no content encoder"):
        DiT(tiny_config()).encode_content(symbols, pitch, mask, total_frames=T)
    with pytest.raises(UnisonoError, match="symbol ids"):
        model.encode_content(symbols + 20, pitch, mask, total_frames=T)

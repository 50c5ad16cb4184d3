"""Held-out losses (data.val_manifests): fixed batches, the EMA weights' loss on them, and a
validated run that trains exactly as it would without validation."""

import math

import pytest
import torch
from safetensors.torch import load_file
from test_caption_training import joint_config
from train_configs import read_rows

from unisono.codec_files import load_codec
from unisono.errors import UnisonoError
from unisono.flow import FlowMatching
from unisono.models.dit import DiT
from unisono.models.text_encoder import TextEncoder
from unisono.train import train_generator
from unisono.train.batches import BatchAssembler
from unisono.train.latents import LatentCache
from unisono.train.objective import GeneratorObjective
from unisono.train.trainer import cached_clips, load_pool
from unisono.train.validation import build_held_out, check_disjoint


def validated_config(world_manifest, val_manifest, output_dir, **run):
    config = joint_config(world_manifest, output_dir, **run)
    config.data.val_manifests = [str(val_manifest)]
    config.data.val_batches = 2
    return config


def held_out_parts(config, tmp_path):
    """The validation pool's fixed batches, built as the trainer builds them."""
    codec = load_codec(None)
    val_pool, val_pairs = load_pool(config, config.data.val_manifests, key="data.val_manifests")
    val_pool.sample_rate = codec.sample_rate
    cache = LatentCache(tmp_path / "cache", codec)
    cache.build(cached_clips(config, val_pool, val_pairs), show_progress=False)
    assembler = BatchAssembler(config=config.data, codec=codec,
                               text_encoder=TextEncoder.from_pretrained(), cache=cache,
                               caption_length=config.model.caption_length)
    flow = FlowMatching(time_mean=config.flow.time_mean, time_std=config.flow.time_std)
    return build_held_out(config, val_pool, assembler, flow), flow


def test_validation_logs_the_ema_weights_loss_and_changes_no_training(
        world_manifest, val_manifest, tmp_path) -> None:
    plain = train_generator(joint_config(world_manifest, tmp_path / "plain"), show_progress=False)
    config = validated_config(world_manifest, val_manifest, tmp_path / "val")
    validated = train_generator(config, show_progress=False)
    # Validation draws from no training generator: the same weights, bit for bit.
    for name in ("model.safetensors", "ema.safetensors"):
        a = load_file(str(plain / "generator" / name))
        b = load_file(str(validated / "generator" / name))
        assert all(torch.equal(a[key], b[key]) for key in a), name
    rows = read_rows(tmp_path / "val")
    columns = {"val/t2a", "val/caption", "val/question"}
    assert columns <= set(rows[0])
    # Validated at each checkpoint (steps 2 and 4), empty elsewhere.
    for row in rows:
        filled = {c for c in columns if not math.isnan(float(row[c]))}
        assert filled == (columns if int(row["step"]) in (2, 4) else set()), row["step"]
    # The last figures are the final EMA weights' mean loss on the fixed batches.
    (batches, missing), flow = held_out_parts(config, tmp_path)
    assert missing == {}
    model = DiT(config.model)
    model.load_state_dict(load_file(str(validated / "generator" / "ema.safetensors")))
    objective = GeneratorObjective(model, flow, duration_weight=config.flow.duration_weight).eval()
    per_task: dict[str, list[float]] = {}
    with torch.no_grad():
        for held in batches:
            _, terms = objective(held.batch, held.example)
            per_task.setdefault(held.task, []).append(
                float(terms["caption" if "caption" in terms else "flow"]))
    assert sorted(per_task) == ["caption", "question", "t2a"]
    assert all(len(v) == 2 for v in per_task.values())
    for task, values in per_task.items():
        assert float(rows[-1][f"val/{task}"]) == pytest.approx(sum(values) / 2, rel=1e-5), task


def test_held_out_batches_are_fixed_by_val_seed_not_run_seed(
        world_manifest, val_manifest, tmp_path) -> None:
    first = validated_config(world_manifest, val_manifest, tmp_path / "a", seed=0)
    first.data.instruction_dropout = 1.0  # the held-out batches never drop the instruction
    (a, _), _ = held_out_parts(first, tmp_path)
    (b, _), _ = held_out_parts(validated_config(world_manifest, val_manifest, tmp_path / "b",
                                                seed=7), tmp_path)
    assert [h.task for h in a] == [h.task for h in b]
    for x, y in zip(a, b, strict=True):
        assert x.batch.kept.all() and x.batch.text_mask.any(dim=1).all()
        assert torch.equal(x.batch.latent, y.batch.latent)
        for name in ("noised", "flow_time", "tokens", "masked"):
            if hasattr(x.example, name):
                assert torch.equal(getattr(x.example, name), getattr(y.example, name)), name
    other = validated_config(world_manifest, val_manifest, tmp_path / "c")
    other.data.val_seed = 1
    (c, _), _ = held_out_parts(other, tmp_path)
    t2a = [h for h in a if h.task == "t2a"][0]
    assert not torch.equal(t2a.example.noised, [h for h in c if h.task == "t2a"][0].example.noised)


def test_validation_refuses_training_clips_and_reports_unbuildable_tasks(
        world_manifest, val_manifest, tmp_path) -> None:
    config = validated_config(world_manifest, world_manifest, tmp_path / "x")
    with pytest.raises(UnisonoError, match="also in data.manifests"):
        train_generator(config, show_progress=False)
    train_pool, _ = load_pool(config)
    check_disjoint(train_pool, load_pool(config, [str(val_manifest)])[0])  # disjoint: no error
    config = validated_config(world_manifest, val_manifest, tmp_path / "y")
    config.tasks = {"t2a": 1.0, "t2m": 1.0}  # an sfx-only manifest has no music
    (batches, missing), _ = held_out_parts(config, tmp_path)
    assert {h.task for h in batches} == {"t2a"} and list(missing) == ["t2m"]
    config.tasks = {"t2m": 1.0}
    with pytest.raises(UnisonoError, match="no validation examples for any trained task"):
        held_out_parts(config, tmp_path)
    config = validated_config(world_manifest, val_manifest, tmp_path / "z")
    config.data.val_batches = 0
    with pytest.raises(UnisonoError, match="val_batches must be at least 1"):
        held_out_parts(config, tmp_path)

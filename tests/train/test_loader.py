"""Loader workers build the same examples, in step order, as the training process itself, and
the training process encodes them into the same batches."""

import pytest
import torch
from safetensors.torch import load_file
from train_configs import tiny_train_config

from unisono.codec_files import load_codec
from unisono.errors import UnisonoError
from unisono.models.text_encoder import TextEncoder
from unisono.train import train_generator
from unisono.train.batches import BatchAssembler, ExampleSampler
from unisono.train.latents import LatentCache
from unisono.train.loader import ExampleStream, batch_stream
from unisono.train.trainer import load_pool


@pytest.fixture(scope="module")
def stream_parts(world_manifest, tmp_path_factory):
    config = tiny_train_config(world_manifest, tmp_path_factory.mktemp("run"))
    codec = load_codec(None)
    pool, pairs = load_pool(config)
    pool.sample_rate = codec.sample_rate
    cache = LatentCache(tmp_path_factory.mktemp("cache"), codec)
    cache.build(pairs, show_progress=False)
    assembler = BatchAssembler(config=config.data, codec=codec,
                               text_encoder=TextEncoder.from_pretrained(), cache=cache)
    # t2a reads cached latents; edit_remove synthesises and encodes a source per example.
    sampler = ExampleSampler({"t2a": 1.0, "edit_remove": 1.0}, pool, seed=2)
    return sampler, assembler


def _same(a, b) -> None:
    for name, value in a.__dict__.items():
        other = getattr(b, name)
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(value, other, rtol=1e-5, atol=1e-5, msg=name)
        elif isinstance(value, tuple):
            for x, y in zip(value, other, strict=True):
                torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5, msg=name)
        else:
            assert value == other, name


def test_workers_give_the_same_batches_in_step_order(stream_parts) -> None:
    sampler, assembler = stream_parts
    stream = ExampleStream(sampler, start=3, stop=8, batch_size=2, grad_accumulation=2,
                           world_size=2, rank=1, seed=2)
    here = list(batch_stream(stream, assembler))
    there = list(batch_stream(stream, assembler, workers=2, prefetch=1))
    assert [step for step, _ in here] == [step for step, _ in there] == [3, 4, 5, 6, 7]
    assert {b.task for _, batches in here for b in batches} == {"t2a", "edit_remove"}
    for (_, mine), (_, theirs) in zip(here, there, strict=True):
        assert len(mine) == len(theirs) == 2
        for a, b in zip(mine, theirs, strict=True):
            _same(a, b)
    # rank 1 of 2, micro-batch 1 starts at example (1 * 2 + 1) * 2
    assert stream.offset(0) == 2 and stream.offset(1) == 6


def test_bad_loader_settings_are_errors(stream_parts) -> None:
    sampler, assembler = stream_parts
    stream = ExampleStream(sampler, start=0, stop=1, batch_size=1)
    with pytest.raises(UnisonoError, match="data.workers"):
        batch_stream(stream, assembler, workers=-1)
    with pytest.raises(UnisonoError, match="data.prefetch"):
        batch_stream(stream, assembler, workers=1, prefetch=0)


def test_training_with_workers_matches_training_without(world_manifest, tmp_path) -> None:
    plain = train_generator(tiny_train_config(world_manifest, tmp_path / "a", max_steps=3),
                            show_progress=False)
    config = tiny_train_config(world_manifest, tmp_path / "b", max_steps=3)
    config.data.workers = 2
    loaded = train_generator(config, show_progress=False)
    a = load_file(str(plain / "generator" / "model.safetensors"))
    b = load_file(str(loaded / "generator" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)

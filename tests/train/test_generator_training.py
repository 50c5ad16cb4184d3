"""The generator trainer: exact resume, batches and masks, final model folder, config errors."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from train_configs import read_rows, tiny_train_config

from unisono.codec_files import load_codec
from unisono.errors import UnisonoError
from unisono.models.text_encoder import TextEncoder
from unisono.pipeline import Unisono
from unisono.tasks import TAG_REFERENCE, TAG_TRANSFORM, TaskExample
from unisono.train import GeneratorDataConfig, train_generator
from unisono.train.batches import BatchAssembler, ExampleSampler, silence_latent
from unisono.train.latents import LatentCache
from unisono.train.trainer import load_pool


def test_resume_from_a_checkpoint_matches_the_uninterrupted_run(world_manifest, tmp_path) -> None:
    straight = train_generator(tiny_train_config(world_manifest, tmp_path / "a"),
                               show_progress=False)
    resumed_dir = tmp_path / "b"
    train_generator(tiny_train_config(world_manifest, resumed_dir), show_progress=False)
    # Pretend the run died after step 2: drop everything written later, then resume.
    shutil.rmtree(resumed_dir / "checkpoints" / "step-00000004")
    shutil.rmtree(resumed_dir / "final")
    resumed = train_generator(tiny_train_config(world_manifest, resumed_dir), show_progress=False)
    for name in ("model.safetensors", "ema.safetensors"):
        a = load_file(str(straight / "generator" / name))
        b = load_file(str(resumed / "generator" / name))
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    rows_a = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    rows_b = (resumed_dir / "metrics.csv").read_text().splitlines()
    assert rows_a == rows_b and len(rows_a) == 5
    model = Unisono.from_pretrained(straight)
    assert model.tasks == ["t2a"]


def test_init_from_starts_from_a_model_folders_ema_weights(world_manifest, tmp_path) -> None:
    first = train_generator(tiny_train_config(world_manifest, tmp_path / "a"), show_progress=False)
    started = load_file(str(first / "generator" / "ema.safetensors"))
    for name, source in (("b", first), ("c", first / "generator")):  # model or generator folder
        config = tiny_train_config(world_manifest, tmp_path / name, init_from=str(source),
                                   max_steps=2, seed=1)  # another seed: another fresh init
        config.optim.lr = 0.0  # nothing moves: the run's weights are exactly the ones it loaded
        after = load_file(str(train_generator(config, show_progress=False)
                              / "generator" / "model.safetensors"))
        assert after.keys() == started.keys()
        for key in started:
            assert torch.equal(after[key], started[key]), (name, key)
    with pytest.raises(UnisonoError, match="init_from"):
        train_generator(tiny_train_config(world_manifest, tmp_path / "d",
                                          init_from=str(tmp_path / "missing")),
                        show_progress=False)

def test_the_trainer_grows_a_shallower_init_from(world_manifest, tmp_path) -> None:
    """A shallower `run.init_from` grows: its blocks where they read the same text layer (2
    blocks read MiniLM's layers 1 and 6; of 4 blocks, reading 1, 2, 4 and 6, blocks 0 and 3 do),
    identity blocks between."""
    first = train_generator(tiny_train_config(world_manifest, tmp_path / "a"), show_progress=False)
    config = tiny_train_config(world_manifest, tmp_path / "b", init_from=str(first), max_steps=2)
    config.model.depth = 4
    config.optim.lr = 0.0  # nothing moves: the run's weights are the grown start
    grown = load_file(str(train_generator(config, show_progress=False)
                          / "generator" / "model.safetensors"))
    started = load_file(str(first / "generator" / "ema.safetensors"))
    assert {k.split(".")[1] for k in grown if k.startswith("blocks.")} == {"0", "1", "2", "3"}
    for key, value in started.items():
        if key.startswith("blocks."):
            old = int(key.split(".")[1])
            key = key.replace(f"blocks.{old}.", f"blocks.{[0, 3][old]}.", 1)
        assert torch.equal(grown[key], value), key
    assert torch.count_nonzero(grown["blocks.1.audio.output.weight"]) == 0


def test_training_refuses_to_overwrite_without_resume(world_manifest, tmp_path) -> None:
    config = tiny_train_config(world_manifest, tmp_path / "r", max_steps=2)
    train_generator(config, show_progress=False)
    with pytest.raises(UnisonoError, match="already holds checkpoints"):
        train_generator(config, resume=False, show_progress=False)


def test_config_errors_name_the_fix(world_manifest, tmp_path) -> None:
    config = tiny_train_config(world_manifest, tmp_path / "e")
    config.model.latent_channels = 16
    with pytest.raises(UnisonoError, match="latent_channels=32"):
        train_generator(config, show_progress=False)
    config = tiny_train_config(world_manifest, tmp_path / "e2")
    config.tasks = {"t2x": 1.0}
    with pytest.raises(UnisonoError, match="Unknown task 't2x'"):
        train_generator(config, show_progress=False)


@pytest.fixture(scope="module")
def assembler_parts(world_manifest, tmp_path_factory):
    codec = load_codec(None)
    config = tiny_train_config(world_manifest, tmp_path_factory.mktemp("run"))
    pool, pairs = load_pool(config)
    cache = LatentCache(tmp_path_factory.mktemp("cache"), codec)
    cache.build(pairs, show_progress=False)
    return codec, TextEncoder.from_pretrained(), cache, pool


def test_clip_mode_masks_exactly_the_real_frames(assembler_parts) -> None:
    codec, encoder, cache, pool = assembler_parts
    assembler = BatchAssembler(config=GeneratorDataConfig(instruction_dropout=0.0), codec=codec,
                               text_encoder=encoder, cache=cache)
    examples = ExampleSampler({"t2a": 1.0}, pool, seed=0).examples(0, 4)
    batch = assembler.assemble(examples, step=0, seed=0)
    for row, example in enumerate(examples):
        frames = cache[example.target_clip].shape[1]
        assert frames == int(np.ceil(example.duration * codec.sample_rate / codec.hop))
        assert batch.frame_mask[row].sum() == frames == batch.loss_mask[row].sum()
        assert torch.equal(batch.latent[row, :, :frames], cache[example.target_clip])
        assert batch.latent[row, :, frames:].abs().sum() == 0
    assert batch.kept.all() and torch.equal(batch.text_mask.any(1), batch.kept)
    assert (batch.task_tag == 0).all()


def test_fixed_mode_pads_with_the_silence_latent_and_trains_on_it(assembler_parts) -> None:
    codec, encoder, cache, pool = assembler_parts
    config = GeneratorDataConfig(length_mode="fixed", fixed_seconds=8.0, instruction_dropout=1.0)
    assembler = BatchAssembler(config=config, codec=codec, text_encoder=encoder, cache=cache)
    examples = ExampleSampler({"t2a": 1.0}, pool, seed=1).examples(0, 2)
    batch = assembler.assemble(examples, step=0, seed=0)
    assert batch.latent.shape[-1] == 400 and batch.loss_mask.all()
    silence = silence_latent(codec)
    frames = cache[examples[0].target_clip].shape[1]
    torch.testing.assert_close(batch.latent[0, :, -1], silence)
    torch.testing.assert_close(batch.latent[0, :, frames], silence)
    # Decoding the silence latent gives (near) silence.
    audio = codec.decode_latent(silence[:, None].repeat(1, 20))
    assert np.sqrt(np.mean(audio**2)) < 1e-2
    assert not batch.kept.any() and not batch.text_mask.any()


def test_sources_and_reference_prefixes_set_tags_and_loss_mask(assembler_parts) -> None:
    codec, encoder, cache, _ = assembler_parts
    assembler = BatchAssembler(config=GeneratorDataConfig(), codec=codec, text_encoder=encoder,
                               cache=cache)
    rng = np.random.default_rng(0)
    target = (0.1 * rng.standard_normal(32000)).astype(np.float32)
    examples = [
        TaskExample(task="x", instruction="continue", duration=2.0, target=target,
                    reference_seconds=0.6),
        TaskExample(task="x", instruction="edit", duration=2.0, target=target,
                    source=target[:16000], source_tag=TAG_TRANSFORM),
    ]
    batch = assembler.assemble(examples, step=0, seed=0)
    assert batch.latent.shape[-1] == 100
    assert (batch.task_tag[0, :30] == TAG_REFERENCE).all() and (batch.task_tag[0, 30:] == 0).all()
    assert not batch.loss_mask[0, :30].any() and batch.loss_mask[0, 30:].all()
    assert torch.equal(batch.source_latent[0, :, :30], batch.latent[0, :, :30])
    assert batch.source_latent[0, :, 30:].abs().sum() == 0
    assert (batch.task_tag[1, :50] == TAG_TRANSFORM).all() and (batch.task_tag[1, 50:] == 0).all()
    assert batch.loss_mask[1].all()


def test_batches_are_a_function_of_seed_and_step(assembler_parts) -> None:
    _, _, _, pool = assembler_parts
    sampler = ExampleSampler({"t2a": 1.0}, pool, seed=5)
    assert sampler.examples(7, 4) == sampler.examples(7, 4)
    assert sampler.examples(7, 4) != sampler.examples(8, 4)
    with pytest.raises(UnisonoError, match="empty"):
        ExampleSampler({}, pool, seed=0)


def test_time_aligned_phones_become_frames_that_tile_the_clip(assembler_parts) -> None:
    codec, encoder, cache, _ = assembler_parts
    assembler = BatchAssembler(config=GeneratorDataConfig(instruction_dropout=0.0), codec=codec,
                               text_encoder=encoder, cache=cache)
    target = np.zeros(16000, dtype=np.float32)
    examples = [
        TaskExample(task="x", instruction="say", duration=1.0, target=target,
                    phones=["_", "h", "ə", "l", "oʊ"], phone_seconds=[0.11, 0.07, 0.13, 0.29, 0.4]),
        TaskExample(task="x", instruction="sing", duration=1.0, target=target,
                    phones=["l", "a"], phone_seconds=[0.1, 0.5], phone_pitch=[60, 62]),
    ]
    batch = assembler.assemble(examples, step=0, seed=0)
    frames = batch.content_frames
    # Cumulative rounding: 0.11 s -> 6 frames (5.5 rounds to even 6), ends 6, 9, 16, 30, 50.
    assert frames[0].tolist() == [6, 3, 7, 14, 20]
    assert frames[0].sum() == 50 and frames[1].tolist() == [5, 25, 0, 0, 0]
    assert batch.content_symbols[1, 2:].eq(0).all() and batch.content_symbols[0].gt(1).all()
    assert batch.content_pitch[1, :2].tolist() == [61, 63] and batch.content_pitch[0].eq(0).all()
    assert batch.content_mask.all()


def test_change_weight_weighs_transformation_frames_by_their_change(assembler_parts) -> None:
    """On an edit batch the weighted flow loss is the masked MSE under `change_weights`; without
    weighting (or on a generation batch) it is the plain masked MSE."""
    from unisono.flow import FlowMatching, masked_mse
    from unisono.flow.path import change_weights
    from unisono.models.dit import DiT
    from unisono.train.objective import GeneratorObjective, flow_example

    codec, encoder, cache, pool = assembler_parts
    pool.sample_rate = codec.sample_rate  # edits synthesise mixtures (as in the trainer)
    assembler = BatchAssembler(config=GeneratorDataConfig(instruction_dropout=0.0), codec=codec,
                               text_encoder=encoder, cache=cache)
    config = tiny_train_config(Path("unused.jsonl"), Path("unused"))
    torch.manual_seed(0)
    model = DiT(config.model).eval()
    flow = FlowMatching()
    objective = GeneratorObjective(model, flow, duration_weight=0.1, change_weight=3.0)
    for task in ("edit_remove", "t2a"):
        batch = assembler.assemble(ExampleSampler({task: 1.0}, pool, seed=0).examples(0, 2),
                                   step=0, seed=0)
        example = flow_example(flow, batch.latent, seed=0, step=0, offset=0)
        with torch.no_grad():
            _, weighted = objective(batch, example)
            _, plain = objective(batch, example, weighted=False)
            velocity = model(example.noised, example.flow_time, text_states=batch.text_states,
                             text_mask=batch.text_mask, source_latent=batch.source_latent,
                             task_tag=batch.task_tag, frame_mask=batch.frame_mask)
        assert plain["flow"] == pytest.approx(float(masked_mse(velocity, example.target,
                                                               batch.loss_mask)), rel=1e-5)
        if task == "t2a":
            assert weighted["flow"] == plain["flow"]
            continue
        weights = change_weights(batch.latent, batch.source_latent, batch.loss_mask, 3.0)
        assert weights.max() > 1.5  # the removed event's frames outweigh the copied ones
        assert weighted["flow"] == pytest.approx(float(masked_mse(velocity, example.target,
                                                                  weights)), rel=1e-5)
        assert weighted["flow"] != pytest.approx(float(plain["flow"]), rel=1e-3)


def test_bf16_autocast_trains_in_bfloat16_close_to_float32(world_manifest, tmp_path) -> None:
    """`run.autocast: bf16` (a GPU option) runs the forward pass in bfloat16: the logged losses
    differ from the float32 run's by bfloat16 rounding (8 bits of mantissa), not more."""
    runs = {}
    for name in ("none", "bf16"):
        folder = train_generator(tiny_train_config(world_manifest, tmp_path / name, max_steps=2,
                                                   autocast=name), show_progress=False)
        runs[name] = [float(row["loss"]) for row in read_rows(tmp_path / name)]
        weights = load_file(str(folder / "generator" / "model.safetensors"))
        assert all(w.dtype == torch.float32 and torch.isfinite(w).all() for w in weights.values())
    assert len(runs["bf16"]) == len(runs["none"]) == 2
    assert runs["bf16"] != runs["none"]  # autocast took effect
    np.testing.assert_allclose(runs["bf16"], runs["none"], rtol=0.03)


@pytest.mark.slow  # compiling the tiny objective takes 1-2 min here with a cold inductor cache
def test_compiled_training_matches_eager(world_manifest, tmp_path) -> None:
    """`run.compile` (torch.compile of the objective) trains the same model: its losses and
    final weights agree with the eager run's to float32 rounding of fused kernels."""
    from torch._dynamo.utils import counters

    counters.clear()
    folders, losses = {}, {}
    for name, compile_ in (("eager", False), ("compiled", True)):
        folders[name] = train_generator(
            tiny_train_config(world_manifest, tmp_path / name, max_steps=2, compile=compile_),
            show_progress=False)
        losses[name] = [float(row["loss"]) for row in read_rows(tmp_path / name)]
    assert counters["stats"]["unique_graphs"] > 0  # the objective was compiled (dynamo's count)
    np.testing.assert_allclose(losses["compiled"], losses["eager"], rtol=1e-4)
    eager = load_file(str(folders["eager"] / "generator" / "model.safetensors"))
    compiled = load_file(str(folders["compiled"] / "generator" / "model.safetensors"))
    assert eager.keys() == compiled.keys()  # no "_orig_mod." prefixes in the saved folder
    for key in eager:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-3, atol=1e-5)

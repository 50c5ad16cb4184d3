"""Captioning joins training: understanding batches, the joint trainer (exact resume across caption
and audio steps), and the pipeline's caption / ask."""

import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from train_configs import tiny_train_config

from unisono.codec_files import load_codec
from unisono.data.manifest import read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.models.text_encoder import TextEncoder
from unisono.pipeline import Unisono
from unisono.train import GeneratorDataConfig, train_generator
from unisono.train.batches import BatchAssembler, ExampleSampler
from unisono.train.latents import LatentCache
from unisono.train.trainer import load_pool

TOKENIZER = {"caption_vocab": 30522, "caption_mask_token": 103, "caption_end_token": 102,
             "caption_pad_token": 0}


def joint_config(manifest, output_dir, **run):
    config = tiny_train_config(manifest, output_dir, **run)
    config.tasks = {"t2a": 1.0, "caption": 1.0, "question": 1.0}
    config.model.caption_stream = True
    config.model.caption_length = 16
    for name, value in TOKENIZER.items():
        setattr(config.model, name, value)
    return config


def understanding_assembler(world_manifest, tmp_path, **lengths):
    """The joint config's clip pool, latent cache and text encoder, and a BatchAssembler over
    them that drops every instruction it may (instruction_dropout 1)."""
    config = joint_config(world_manifest, tmp_path / "run")
    pool, pairs = load_pool(config)
    codec = load_codec(None)
    pool.sample_rate = codec.sample_rate
    cache = LatentCache(tmp_path / "cache", codec)
    cache.build(pairs, show_progress=False)
    encoder = TextEncoder.from_pretrained()
    data = GeneratorDataConfig(manifests=config.data.manifests, instruction_dropout=1.0)
    assembler = BatchAssembler(config=data, codec=codec, text_encoder=encoder, cache=cache,
                               **lengths)
    return pool, cache, encoder, assembler


def test_understanding_batches_carry_the_answer_and_keep_the_question(world_manifest, tmp_path):
    pool, cache, encoder, assembler = understanding_assembler(world_manifest, tmp_path,
                                                              caption_length=16)
    sampler = ExampleSampler({"question": 1.0}, pool, seed=0)
    examples = sampler.examples(0, 3)
    batch = assembler.assemble(examples, step=0, seed=0)
    assert batch.caption_tokens.shape == (3, 16)
    assert batch.kept.all() and batch.text_mask.any(dim=1).all()  # questions are never dropped
    for row, example in enumerate(examples):
        ids = encoder.tokenizer(example.answer, add_special_tokens=False)["input_ids"]
        assert batch.caption_tokens[row, : len(ids)].tolist() == ids
        assert batch.caption_tokens[row, len(ids)] == 102
        assert (batch.caption_tokens[row, len(ids) + 1 :] == 0).all()
        # The audio is the clip itself: its cached latent, unchanged.
        clip = example.target_clip
        assert torch.equal(batch.latent[row, :, : cache[clip].shape[1]], cache[clip])


def test_question_answers_take_answer_length_positions_captions_the_full_length(
        world_manifest, tmp_path) -> None:
    pool, _, encoder, assembler = understanding_assembler(world_manifest, tmp_path,
                                                          caption_length=16, answer_length=6)
    questions = ExampleSampler({"question": 1.0}, pool, seed=0).examples(0, 2)
    captions = ExampleSampler({"caption": 1.0}, pool, seed=0).examples(0, 2)
    answers = assembler.assemble(questions, step=0, seed=0).caption_tokens
    assert answers.shape == (2, 6)
    assert assembler.assemble(captions, step=0, seed=0).caption_tokens.shape == (2, 16)
    assert answers.tolist() == encoder.caption_ids([e.answer for e in questions], 6).tolist()


def test_answer_length_is_checked_and_defaults_to_the_caption_length() -> None:
    from unisono.models.dit import DiTConfig

    config = DiTConfig(width=64, heads=2, caption_stream=True, caption_length=16, **TOKENIZER)
    assert config.answer_tokens("question") == config.answer_tokens("caption") == 16
    config = DiTConfig(width=64, heads=2, caption_stream=True, caption_length=16, answer_length=6,
                       **TOKENIZER)
    assert (config.answer_tokens("question"), config.answer_tokens("caption")) == (6, 16)
    with pytest.raises(UnisonoError, match="answer_length 20 must be in 0..caption_length"):
        DiTConfig(width=64, heads=2, caption_stream=True, caption_length=16, answer_length=20,
                  **TOKENIZER)


def test_caption_init_text_encoder_starts_from_the_word_embeddings(world_manifest,
                                                                     tmp_path) -> None:
    from unisono.models.dit import DiT

    config = joint_config(world_manifest, tmp_path / "e", max_steps=1,
                          caption_init="text_encoder")
    config.optim.lr = 0.0  # the one step leaves the weights where they started
    final = train_generator(config, show_progress=False)
    trained = load_file(str(final / "generator" / "model.safetensors"))["caption_embedding.weight"]
    expected = DiT(config.model)
    expected.init_caption_embedding(TextEncoder.from_pretrained().word_embeddings())
    assert torch.allclose(trained.float(), expected.caption_embedding.weight, atol=1e-6)
    config = joint_config(world_manifest, tmp_path / "f", max_steps=1)
    config.optim.lr = 0.0
    normal = load_file(str(train_generator(config, show_progress=False) / "generator"
                           / "model.safetensors"))["caption_embedding.weight"]
    assert not torch.allclose(normal.float(), expected.caption_embedding.weight, atol=1e-3)
    without_stream = tiny_train_config(world_manifest, tmp_path / "g", caption_init="text_encoder")
    with pytest.raises(UnisonoError, match="caption_init=text_encoder.*caption_stream is false"):
        train_generator(without_stream, show_progress=False)


def test_joint_training_resumes_exactly_and_captions(world_manifest, tmp_path) -> None:
    straight = train_generator(joint_config(world_manifest, tmp_path / "a"), show_progress=False)
    resumed_dir = tmp_path / "b"
    train_generator(joint_config(world_manifest, resumed_dir), show_progress=False)
    shutil.rmtree(resumed_dir / "checkpoints" / "step-00000004")
    shutil.rmtree(resumed_dir / "final")
    resumed = train_generator(joint_config(world_manifest, resumed_dir), show_progress=False)
    a = load_file(str(straight / "generator" / "model.safetensors"))
    b = load_file(str(resumed / "generator" / "model.safetensors"))
    assert all(torch.equal(a[key], b[key]) for key in a)
    rows = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    captions = [row.split(",")[header.index("caption")] for row in rows[1:]]
    assert any(value not in ("", "nan") for value in captions)  # some steps trained captions

    model = Unisono.from_pretrained(straight)
    assert set(model.tasks) == {"t2a", "caption", "question"}
    entry = read_manifest(world_manifest)[0]
    path = resolve_path(entry, world_manifest)
    assert isinstance(model.caption(path, steps=4), str)
    assert model.caption([path, path], steps=2) == [model.caption(path, steps=2)] * 2

    # With a caption stream that predicts a fixed sentence, caption() returns exactly it.
    encoder = model.text_encoder
    answer = encoder.caption_ids(["a dog barks twice"], 16)[0]

    def fixed(latent, tokens, **_):
        logits = torch.full((tokens.shape[0], 16, 30522), -10.0)
        logits[:, torch.arange(16), answer] = 10.0
        return logits

    model.generator.caption_logits = fixed
    assert model.caption(path, steps=16) == "a dog barks twice"
    assert model.ask(np.zeros(16000, dtype=np.float32), "What sound is this?", sample_rate=16000,
                     steps=1) == "a dog barks twice"
    with pytest.raises(UnisonoError, match="empty question"):
        model.ask(path, "  ")

    # A model with short answers samples questions over answer_length positions only.
    model.generator.config.answer_length = 4  # a, dog, bark, ##s
    seen = []

    def short(latent, tokens, **_):
        seen.append(tokens.shape[1])
        return fixed(latent, tokens)[:, : tokens.shape[1]]

    model.generator.caption_logits = short
    assert model.ask(path, "What sound is this?", steps=40) == "a dog barks"
    assert set(seen) == {4} and len(seen) == 4  # 40 steps asked, at most one per position


def test_captioning_needs_the_caption_stream(world_manifest, tmp_path) -> None:
    config = joint_config(world_manifest, tmp_path / "c")
    config.model.caption_stream = False
    with pytest.raises(UnisonoError, match="caption_stream=true"):
        train_generator(config, show_progress=False)
    config = joint_config(world_manifest, tmp_path / "d")
    config.model.caption_mask_token = 5
    with pytest.raises(UnisonoError, match="caption_mask_token=103"):
        train_generator(config, show_progress=False)


def test_consensus_caption_is_the_wording_the_others_share() -> None:
    from unisono.tasks.understanding import _ngram_f1, consensus_caption

    # "a b c" against "a b d": 2 of 3 unigrams and 1 of 2 bigrams match each way.
    assert _ngram_f1(["a", "b", "c"], ["a", "b", "d"], 1) == pytest.approx(2 / 3)
    assert _ngram_f1(["a", "b", "c"], ["a", "b", "d"], 2) == pytest.approx(1 / 2)
    assert _ngram_f1(["a", "b"], ["a", "b"], 3) == 0.0  # no trigrams: nothing to match
    # "a b c d" agrees with both others by (2/3 + 1/2 + 0 + 0) / 4 = 0.29; each of them with
    # it alone, so by half that on average: the middle wording wins, whatever the order.
    for captions in (["a b", "A b c d", "c d"], ["c d", "a b", "A b c d"]):
        assert consensus_caption(captions) == "A b c d"
    assert consensus_caption(["x y", "z w", "x y"]) == "x y"  # ties go to the first
    assert consensus_caption(["only one"]) == "only one"


def test_caption_choice_consensus_trains_on_one_wording_per_clip(world_manifest,
                                                                  tmp_path) -> None:
    from unisono.tasks.understanding import consensus_caption

    config = joint_config(world_manifest, tmp_path / "run")
    pool, _ = load_pool(config)
    seen_any = ExampleSampler({"caption": 1.0}, pool, seed=0).examples(0, 64)
    by_clip = {e.id: e for e in pool.entries}
    wordings: dict[str, set[str]] = {}
    for example in seen_any:
        assert example.answer in by_clip[example.target_clip].captions
        wordings.setdefault(example.target_clip, set()).add(example.answer)
    assert any(len(w) > 1 for w in wordings.values())  # "any": several wordings of a clip

    config.data.caption_choice = "consensus"
    pool, _ = load_pool(config)
    seen = ExampleSampler({"caption": 1.0}, pool, seed=0).examples(0, 64)
    for example in seen:
        assert example.answer == consensus_caption(by_clip[example.target_clip].captions)
    # The choice changes only the answer: the same clips and instructions in the same order.
    assert [(e.target_clip, e.instruction) for e in seen] == \
        [(e.target_clip, e.instruction) for e in seen_any]

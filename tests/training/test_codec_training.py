"""Codec training: exact resume after a kill, seeded data, and a falling loss on a toy set."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from unisono.audio import save_audio
from unisono.codec_train import CropDataset, TrainCodecConfig, collect_clips, train_codec
from unisono.config import load_config
from unisono.errors import UnisonoError
from unisono.models.codec import Codec


@pytest.fixture(scope="module")
def sine_manifest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sines")
    lines = []
    for i, (freq, rate) in enumerate([(220, 16000), (440, 22050), (330, 16000), (880, 8000)]):
        t = np.arange(int(rate * 1.5)) / rate
        save_audio(
            folder / f"s{i}.wav",
            (0.3 * np.sin(2 * np.pi * freq * t * (1 + 0.2 * t))).astype(np.float32),
            rate,
        )
        lines.append(json.dumps({"id": f"s{i}", "path": f"s{i}.wav", "kind": "sfx"}))
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return folder / "manifest.jsonl"


def small_config(manifest, out, *extra):
    return load_config(
        TrainCodecConfig,
        None,
        [
            f"data.manifests=[{manifest}]",
            f"run.output_dir={out}",
            "run.max_steps=6",
            "run.checkpoint_every=3",
            "run.log_every=1",
            "run.tensorboard=false",
            "run.scale_batches=1",
            "data.batch_size=2",
            "data.crop_seconds=0.25",
            "data.num_workers=0",
            "model.frame.width=16",
            "model.frame.encoder_blocks=1",
            "model.frame.decoder_blocks=1",
            "optim.warmup_steps=2",
            *extra,
        ],
    )


def test_resume_continues_the_same_run(sine_manifest, tmp_path, monkeypatch):
    straight = train_codec(small_config(sine_manifest, tmp_path / "a"), show_progress=False)

    shutil.copytree(tmp_path / "a", tmp_path / "b")
    # simulate a kill between step 3 and step 6: only the step-3 checkpoint survives
    shutil.rmtree(tmp_path / "b" / "checkpoints" / "step-00000006")
    shutil.rmtree(tmp_path / "b" / "final")
    calls = []
    original = Codec.forward
    monkeypatch.setattr(
        Codec, "forward", lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    )
    resumed = train_codec(small_config(sine_manifest, tmp_path / "b"), show_progress=False)
    assert len(calls) == 3  # it continued from step 3 rather than starting again

    for name in ("model.safetensors", "ema.safetensors"):
        a, b = load_file(str(straight / name)), load_file(str(resumed / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with open(tmp_path / "b" / "metrics.csv") as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == [1, 2, 3, 4, 5, 6]
    codec = Codec.from_pretrained(resumed)
    assert codec.config.latent_scale != 1.0  # estimated from data at the checkpoint
    with pytest.raises(UnisonoError, match="already holds checkpoints"):
        train_codec(small_config(sine_manifest, tmp_path / "b"), resume=False, show_progress=False)
    with pytest.raises(UnisonoError, match="cannot resume"):
        train_codec(
            small_config(sine_manifest, tmp_path / "b", "model.frame.width=8", "run.max_steps=9"),
            show_progress=False,
        )


def test_crops_depend_only_on_seed_and_index(sine_manifest):
    clips = collect_clips([str(sine_manifest)])
    assert sorted(c.sample_rate for c in clips) == [8000, 16000, 16000, 22050]

    def make(seed):
        return CropDataset(clips, sample_rate=16000, crop_seconds=0.5, seed=seed)

    a, b, c = make(0), make(0), make(1)
    assert a[5].shape == (8000,)
    assert torch.equal(a[5], b[5]) and not torch.equal(a[5], a[6]) and not torch.equal(a[5], c[5])


def test_missing_manifests_are_reported(tmp_path):
    with pytest.raises(UnisonoError, match="data.manifests"):
        collect_clips([])


@pytest.mark.slow
def test_loss_falls_on_a_toy_set(sine_manifest, tmp_path):
    final = train_codec(
        small_config(
            sine_manifest,
            tmp_path / "toy",
            "run.max_steps=200",
            "run.checkpoint_every=200",
            "optim.lr=0.003",
            "model.frame.width=64",
        ),
        show_progress=False,
    )
    with open(tmp_path / "toy" / "metrics.csv") as handle:
        mel = [float(row["mel"]) for row in csv.DictReader(handle)]
    assert np.mean(mel[-20:]) < 0.6 * np.mean(mel[:5])
    assert final.is_dir()


def test_adversarial_training_saves_and_resumes_the_discriminator(sine_manifest, tmp_path):
    extra = (
        "run.max_steps=2",
        "run.checkpoint_every=1",
        "loss.adversarial=0.1",
        "loss.feature_matching=1.0",
        "discriminator.channels=4",
    )
    straight = train_codec(small_config(sine_manifest, tmp_path / "a", *extra), show_progress=False)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    last = tmp_path / "b" / "checkpoints" / "step-00000002"
    assert (last / "discriminator.safetensors").is_file()
    shutil.rmtree(last)
    shutil.rmtree(tmp_path / "b" / "final")
    resumed = train_codec(small_config(sine_manifest, tmp_path / "b", *extra), show_progress=False)
    a = load_file(str(straight / "model.safetensors"))
    b = load_file(str(resumed / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with open(tmp_path / "a" / "metrics.csv") as handle:
        row = next(csv.DictReader(handle))
    assert {"adv", "fm", "disc"} <= set(row) and np.isfinite(float(row["disc"]))


def test_init_from_starts_a_new_run_from_a_codec_folder(sine_manifest, tmp_path):
    first = train_codec(small_config(sine_manifest, tmp_path / "a"), show_progress=False)
    # lr 0: the weights cannot move, so the new run must end exactly where its source started
    again = train_codec(
        small_config(sine_manifest, tmp_path / "b", f"run.init_from={first}", "optim.lr=0.0",
                     "optim.weight_decay=0.0", "run.max_steps=1"),
        show_progress=False,
    )
    source, continued = Codec.from_pretrained(first), Codec.from_pretrained(again, weights="model")
    for key, value in source.state_dict().items():
        assert torch.equal(value, continued.state_dict()[key]), key
    with pytest.raises(UnisonoError, match="init_from"):
        train_codec(small_config(sine_manifest, tmp_path / "c", f"run.init_from={first}",
                                 "model.frame.width=24"), show_progress=False)


def test_freeze_encoder_keeps_the_latent_space_and_trains_the_decoder(sine_manifest, tmp_path):
    first = train_codec(small_config(sine_manifest, tmp_path / "a"), show_progress=False)
    tuned = train_codec(
        small_config(sine_manifest, tmp_path / "b", f"run.init_from={first}",
                     "run.freeze_encoder=true", "optim.lr=1e-2"),
        show_progress=False,
    )
    source = Codec.from_pretrained(first)
    for weights in ("model", "ema"):
        result = Codec.from_pretrained(tuned, weights=weights)
        assert result.config.latent_scale == source.config.latent_scale
        same = [torch.equal(v, result.state_dict()[k]) for k, v in source.state_dict().items()
                if k.startswith(("encoder.", "bottleneck."))]
        assert same and all(same)
    decoder = [k for k in source.state_dict() if k.startswith("decoder.")]
    moved = Codec.from_pretrained(tuned, weights="model").state_dict()
    assert any(not torch.equal(source.state_dict()[k], moved[k]) for k in decoder)
    with pytest.raises(UnisonoError, match="freeze_encoder"):
        train_codec(small_config(sine_manifest, tmp_path / "c", "run.freeze_encoder=true"),
                    show_progress=False)


def test_freeze_encoder_starts_a_new_decoder_design_from_the_parts_that_fit(sine_manifest, tmp_path):
    first = train_codec(small_config(sine_manifest, tmp_path / "a"), show_progress=False)
    finer = ("model.frame.decoder_upsample=2", "model.frame.upsample_blocks=1")
    tuned = train_codec(
        small_config(sine_manifest, tmp_path / "b", f"run.init_from={first}",
                     "run.freeze_encoder=true", "run.max_steps=1", *finer),
        show_progress=False,
    )
    source = Codec.from_pretrained(first).state_dict()  # init_from starts from the EMA weights
    result = Codec.from_pretrained(tuned, weights="model")
    assert result.config.frame.decoder_upsample == 2
    state = result.state_dict()
    for name in ("encoder.stack.embed.weight", "decoder.stack.embed.weight"):
        assert name in source
    assert torch.equal(state["encoder.stack.embed.weight"], source["encoder.stack.embed.weight"])
    assert state["decoder.stack.head.weight"].shape != source["decoder.stack.head.weight"].shape
    assert "decoder.fine.head.weight" in state and "decoder.fine.head.weight" not in source
    with pytest.raises(UnisonoError, match="encoder tensors do not fit"):
        train_codec(small_config(sine_manifest, tmp_path / "c", f"run.init_from={first}",
                                 "run.freeze_encoder=true", "model.frame.encoder_blocks=2"),
                    show_progress=False)

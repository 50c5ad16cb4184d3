"""`unisono codec ...` and `train-codec` via a parser built by `unisono.cli.codec.register`."""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from codec_fixtures import tiny_frame_config
from safetensors import safe_open

from unisono import codec_files
from unisono.audio import save_audio
from unisono.cli import codec as codec_cli
from unisono.errors import UnisonoError
from unisono.models.codec import Codec

TINY_YAML = Path(__file__).resolve().parents[2] / "configs" / "codec" / "tiny.yaml"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    codec_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture
def model_dir(tmp_path):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        Codec(tiny_frame_config()).save_pretrained(tmp_path / "codec")
    return tmp_path / "codec"


@pytest.fixture
def clip(tmp_path):
    t = np.arange(22050) / 22050
    audio = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    return save_audio(tmp_path / "in.wav", audio, 22050)


def test_encode_decode_roundtrip(model_dir, clip, tmp_path):
    assert (
        run(
            "codec",
            "encode",
            str(clip),
            "-o",
            str(tmp_path / "z.safetensors"),
            "--model",
            str(model_dir),
        )
        == 0
    )
    with safe_open(str(tmp_path / "z.safetensors"), framework="pt") as handle:
        latent = handle.get_tensor("latent")
        metadata = handle.metadata()
    assert metadata["num_samples"] == "16000" and metadata["source_sample_rate"] == "22050"
    assert latent.shape == (32, math.ceil(16000 / 320))
    run(
        "codec",
        "decode",
        str(tmp_path / "z.safetensors"),
        "-o",
        str(tmp_path / "out.wav"),
        "--model",
        str(model_dir),
    )
    decoded, rate = sf.read(str(tmp_path / "out.wav"))
    assert rate == 16000 and decoded.shape == (16000,)
    run("codec", "roundtrip", str(clip), "-o", str(tmp_path / "rt.wav"), "--model", str(model_dir))
    roundtrip, rate = sf.read(str(tmp_path / "rt.wav"))
    assert rate == 22050 and roundtrip.shape == (22050,)


def test_eval_writes_report_with_reference_row(model_dir, clip, tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "a", "path": "in.wav", "kind": "music"}) + "\n")
    run(
        "codec",
        "eval",
        str(manifest),
        "--out",
        str(tmp_path / "report.json"),
        "--model",
        str(model_dir),
    )
    report = json.loads((tmp_path / "report.json").read_text())
    rows = {row["system"]: row for row in report["rows"]}
    assert set(rows) == {"codec", "lowpass 6 kHz"}
    # a 330 Hz tone has no energy above 6 kHz: the low-pass reference is near-perfect
    assert rows["lowpass 6 kHz"]["si_sdr"] > 40 and rows["lowpass 6 kHz"]["kind"] == "music"
    assert "dnsmos" not in rows["codec"] and "wer" not in rows["codec"]  # speech-only metrics
    assert "| codec | music | 1 |" in capsys.readouterr().out
    assert (tmp_path / "report.md").read_text().startswith("| system |")


def test_missing_shipped_codec_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_files.importlib.resources, "files", lambda package: tmp_path)
    with pytest.raises(UnisonoError, match="no shipped codec.*--model DIR"):
        codec_files.load_codec(None)


def test_errors_are_clear(tmp_path, clip):
    with pytest.raises(UnisonoError, match="not a codec folder"):
        run(
            "codec",
            "encode",
            str(clip),
            "-o",
            str(tmp_path / "z.safetensors"),
            "--model",
            str(tmp_path),
        )
    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    with pytest.raises(UnisonoError):
        codec_files.decode_file(
            Codec(tiny_frame_config()), tmp_path / "bad.safetensors", tmp_path / "o.wav"
        )


def test_train_codec_command_parses_overrides(tmp_path):
    with pytest.raises(UnisonoError, match="data.manifests"):
        run("train-codec", str(TINY_YAML), "--set", f"run.output_dir={tmp_path / 'run'}",
            "data.manifests=[]")
    # the shipped config names world manifests relative to the working directory
    with pytest.raises(UnisonoError, match="manifest not found: world/train/manifest.jsonl"):
        run("train-codec", str(TINY_YAML), "--set", f"run.output_dir={tmp_path / 'run2'}")
    with pytest.raises(UnisonoError, match="unknown config key"):
        run("train-codec", str(TINY_YAML), "--set", "run.max_stepz=3")


def test_eval_scores_speech_with_dnsmos_and_wer(model_dir, tmp_path):
    from unisono.codec_eval import evaluate_manifest
    from unisono.world import speech

    sentence = "The captain carried the milk to the old kitchen."
    utterance = speech.synthesize(sentence, "piper-joe", sample_rate=16000)
    save_audio(tmp_path / "s.wav", utterance.audio, 16000)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"id": "s", "path": "s.wav", "kind": "speech", "transcript": sentence,
                                    "duration": utterance.audio.shape[0] / 16000}) + "\n")
    report = evaluate_manifest(Codec.from_pretrained(model_dir), manifest)
    rows = {row["system"]: row for row in report["rows"]}
    assert set(rows) == {"codec", "lowpass 6 kHz", "original"}
    assert rows["original"]["wer"] <= 20.0 and 1.0 <= rows["original"]["dnsmos"] <= 5.0
    # the 6 kHz low-pass keeps speech intelligible: its WER stays close to the original's
    assert rows["lowpass 6 kHz"]["wer"] <= rows["original"]["wer"] + 20.0
    assert "wer" in rows["codec"] and "dnsmos" in rows["codec"]


def test_export_keeps_one_half_precision_weight_set(model_dir, tmp_path):
    run("codec", "export", str(model_dir), "-o", str(tmp_path / "shipped"))
    files = sorted(p.name for p in (tmp_path / "shipped").iterdir())
    assert files == ["config.json", "model.safetensors"]
    with safe_open(str(tmp_path / "shipped" / "model.safetensors"), framework="pt") as handle:
        assert all(handle.get_tensor(k).dtype == torch.float16 for k in handle.keys())
    original, exported = Codec.from_pretrained(model_dir), Codec.from_pretrained(tmp_path / "shipped")
    audio = np.sin(np.linspace(0, 600, 8000)).astype(np.float32) * 0.3
    a, b = original.roundtrip(audio, 16000), exported.roundtrip(audio, 16000)
    assert np.max(np.abs(a - b)) < 1e-2 * max(np.max(np.abs(a)), 1e-3)

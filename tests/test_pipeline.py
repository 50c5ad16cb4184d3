"""The Python API and `unisono generate`: determinism, durations, batches, errors."""

import numpy as np
import pytest
import soundfile as sf
import torch

from unisono.audio import DEFAULT_PEAK, limit_peak
from unisono.cli import main
from unisono.errors import UnisonoError
from unisono.models.codec import Codec
from unisono.models.dit import DiT
from unisono.pipeline import Unisono, trim_trailing_silence


@pytest.fixture(scope="module")
def model_dir(make_model_folder):
    return make_model_folder(["t2a"])


@pytest.fixture(scope="module")
def model(model_dir) -> Unisono:
    return Unisono.from_pretrained(model_dir)


def test_same_seed_same_audio_and_exact_duration(model) -> None:
    a = model.generate("a dog barks", duration=1.3, steps=3, seed=4)
    b = model.generate("a dog barks", duration=1.3, steps=3, seed=4)
    c = model.generate("a dog barks", duration=1.3, steps=3, seed=5)
    assert np.array_equal(a.audio, b.audio)
    assert not np.allclose(a.audio, c.audio)
    assert len(a.audio) == round(1.3 * 16000) and a.sample_rate == 16000
    assert np.isfinite(a.audio).all()


def test_a_prompt_gives_the_same_audio_alone_or_in_a_batch(model) -> None:
    alone = model.generate("rain on a roof", duration=1.0, steps=2, seed=11, cfg=2.0)
    batch = model.generate(["a bell rings", "rain on a roof"], duration=[2.0, 1.0], steps=2,
                           seed=10, cfg=2.0)
    assert [len(x.audio) for x in batch] == [32000, 16000]
    np.testing.assert_allclose(batch[1].audio, alone.audio, atol=2e-4)


def test_predicted_duration_is_used_without_a_duration(model) -> None:
    seconds = model.predict_duration(["a short beep"])[0]
    out = model.generate("a short beep", steps=1, seed=0)
    assert 0.1 <= seconds <= 30.0
    assert abs(out.duration - seconds) < 1.0 / 16000 + 1e-6


def test_errors_name_the_problem(model) -> None:
    with pytest.raises(UnisonoError, match="empty prompt"):
        model.generate("  ")
    with pytest.raises(UnisonoError, match="not trained for 't2m'"):
        model.generate("a piano", task="t2m")
    with pytest.raises(UnisonoError, match="Unknown task"):
        model.generate("a piano", task="sing-along")
    with pytest.raises(UnisonoError, match="'se' is not one of them.*enhance"):
        model.generate("a piano", task="se")
    with pytest.raises(UnisonoError, match="outside"):
        model.generate("a piano", duration=-1.0)
    with pytest.raises(UnisonoError, match="not a Unisono model folder"):
        Unisono.from_pretrained(model.__class__.__module__)


def test_cli_generate_single_and_resumable_batch(model_dir, tmp_path) -> None:
    out = tmp_path / "one.wav"
    assert main(["generate", "a cat meows", "-o", str(out), "--model", str(model_dir),
                 "--duration", "0.5", "--steps", "2", "--solver", "heun"]) == 0
    audio, rate = sf.read(out)
    assert rate == 16000 and len(audio) == 8000
    prompts = tmp_path / "p.txt"
    prompts.write_text("a cat meows\n\nwind blows\n")
    folder = tmp_path / "batch"
    args = ["generate", "--prompts", str(prompts), "--out-dir", str(folder), "--model",
            str(model_dir), "--duration", "0.5", "--steps", "1"]
    assert main(args) == 0
    assert sorted(p.name for p in folder.glob("*.wav")) == ["00000.wav", "00001.wav"]
    first = folder / "00000.wav"
    first.write_bytes(b"kept")  # a finished item is skipped on a second run
    assert main(args) == 0
    assert first.read_bytes() == b"kept"
    assert main(["generate", "x", "--model", str(model_dir)]) == 2  # no -o


@pytest.fixture
def loud_decoder(monkeypatch) -> None:
    """The codec decodes 10x louder: the tiny random model's outputs (peaks near 0.3) then go
    above full scale, as a real model's sometimes do."""
    decode = Codec.decode_latent
    monkeypatch.setattr(Codec, "decode_latent",
                        lambda self, latent, **options: 10.0 * decode(self, latent, **options))


def test_outputs_are_peak_limited_by_default_and_raw_with_peak_none(model, loud_decoder) -> None:
    settings = dict(duration=1.0, steps=2, seed=3)
    raw = model.generate("a dog barks twice over rain", peak=None, **settings).audio
    assert np.abs(raw).max() > 1.0
    limited = model.generate("a dog barks twice over rain", **settings).audio
    assert np.abs(limited).max() <= DEFAULT_PEAK
    np.testing.assert_array_equal(limited, limit_peak(raw))  # one gain for the clip, nothing else
    softer = model.generate("a dog barks twice over rain", peak=0.5, **settings).audio
    assert np.abs(softer).max() == 0.5
    with pytest.raises(UnisonoError, match="peak ceiling must be a finite number above 0"):
        model.generate("a dog barks", peak=0.0, **settings)


def test_cli_peak_flags(model_dir, loud_decoder, tmp_path) -> None:
    command = ["generate", "a cat meows", "--model", str(model_dir), "--duration", "0.5",
               "--steps", "1"]
    peaks = {}
    for name, flags in (("default", []), ("half", ["--peak", "0.5"]), ("raw", ["--no-peak-limit"])):
        assert main([*command, "-o", str(tmp_path / f"{name}.wav"), *flags]) == 0
        peaks[name] = np.abs(sf.read(tmp_path / f"{name}.wav", dtype="float32")[0]).max()
    assert peaks["raw"] > 1.0 and peaks["default"] <= DEFAULT_PEAK and peaks["half"] == 0.5
    with pytest.raises(SystemExit):  # argparse: not allowed together
        main([*command, "-o", str(tmp_path / "x.wav"), "--peak", "0.5", "--no-peak-limit"])


def test_trim_trailing_silence() -> None:
    audio = np.zeros(16000, dtype=np.float32)
    audio[:4000] = 0.5 * np.sin(np.arange(4000) / 5.0)
    trimmed = trim_trailing_silence(audio, 16000)
    assert 4000 <= len(trimmed) <= 4800


def test_export_keeps_the_ema_weights_in_float16(model_dir, tmp_path) -> None:
    from safetensors.torch import load_file

    from unisono.pipeline import export_model_folder

    out = export_model_folder(model_dir, tmp_path / "exported")
    saved = load_file(str(out / "generator" / "model.safetensors"))
    assert not (out / "generator" / "ema.safetensors").exists()
    assert all(v.dtype == torch.float16 for v in saved.values() if v.is_floating_point())
    original = DiT.from_pretrained(model_dir / "generator")
    exported = Unisono.from_pretrained(out)
    for key, value in original.state_dict().items():
        torch.testing.assert_close(exported.generator.state_dict()[key], value.half().float())
    assert exported.tasks == ["t2a"]
    with pytest.raises(UnisonoError, match="bare checkpoint"):
        export_model_folder(model_dir / "generator", tmp_path / "x")
    assert main(["export", str(model_dir), str(tmp_path / "cli")]) == 0


def test_export_of_a_run_checkpoint_reads_the_run_config(model_dir, tmp_path) -> None:
    import shutil

    from unisono.pipeline import export_model_folder

    run = tmp_path / "run"
    checkpoint = run / "checkpoints" / "step-00000010"
    shutil.copytree(model_dir / "generator", checkpoint)
    (run / "train_config.yaml").write_text(
        "tasks: {t2a: 2.0, se: 0.5, sr: 0.0}\ndata: {manifests: [x.jsonl], length_mode: fixed, "
        "fixed_seconds: 6.0}\n")
    exported = Unisono.from_pretrained(export_model_folder(checkpoint, tmp_path / "out"))
    assert exported.tasks == ["se", "t2a"]  # the weighted tasks; sr had weight 0
    assert exported.length_mode == "fixed" and exported.fixed_seconds == 6.0
    assert Unisono.from_pretrained(export_model_folder(checkpoint, tmp_path / "out2",
                                                       tasks=["t2a"])).tasks == ["t2a"]
    with pytest.raises(UnisonoError, match="Folders there that are: step-00000010[.]"):
        export_model_folder(run / "checkpoints" / "step-10", tmp_path / "out3")

"""`score_folders` and `unisono score`: pairing by name, resampling, alignment, sets, captions."""

import argparse
import json

import numpy as np
import pytest
import soundfile as sf

from unisono.errors import UnisonoError
from unisono.metrics import SI_SDR_CAP_DB, FrechetAudioDistance, log_spectral_distance
from unisono.metrics.folders import audio_files, score_folders

SR = 16000


def _noise(seed: int, seconds: float = 1.0, rate: int = SR) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(int(seconds * rate))
    return (0.1 * noise).astype(np.float32)


@pytest.fixture
def folders(tmp_path):
    generated, reference = tmp_path / "generated", tmp_path / "reference"
    (generated / "sub").mkdir(parents=True)
    (reference / "sub").mkdir(parents=True)
    for name, seed in (("a", 1), ("sub/b", 2)):
        sf.write(reference / f"{name}.wav", _noise(seed), SR, subtype="FLOAT")
    sf.write(generated / "a.flac", _noise(1), SR, subtype="PCM_24")  # same clip, another format
    sf.write(generated / "sub" / "b.wav", 0.5 * _noise(2) + 0.5 * _noise(3), SR, subtype="FLOAT")
    sf.write(reference / "extra.wav", _noise(4), SR, subtype="FLOAT")  # no generated twin
    return generated, reference


class MeanEmbedder:
    name = "mean-std"
    sample_rate = SR

    def __call__(self, audio, sample_rate):
        frames = audio[: audio.shape[0] // 400 * 400].reshape(-1, 400)
        return np.stack([frames.mean(axis=1), frames.std(axis=1)], axis=1)


def test_pairs_by_name_and_reports_per_file(folders):
    generated, reference = folders
    assert list(audio_files(generated)) == ["a", "sub/b"]
    report = score_folders(generated, reference, ["si_sdr", "lsd"])
    assert report["per_file"]["si_sdr"]["a"] > 40  # 24-bit copy of the reference
    b_gen = 0.5 * _noise(2) + 0.5 * _noise(3)
    assert report["per_file"]["lsd"]["sub/b"] == pytest.approx(
        log_spectral_distance(_noise(2), b_gen), rel=1e-5)
    per_file = list(report["per_file"]["lsd"].values())
    assert report["metrics"]["lsd"] == pytest.approx(np.mean(per_file))
    assert report["counts"]["generated_clips"] == 2 and report["counts"]["reference_clips"] == 3
    json.dumps(report)  # JSON-ready


def test_generated_clip_at_another_rate_is_resampled(folders):
    generated, reference = folders
    import soxr

    t = np.arange(SR) / SR
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220, 1000, 3000)).astype(np.float32)
    (generated / "a.flac").unlink()
    sf.write(reference / "a.wav", chord, SR, subtype="FLOAT")
    sf.write(generated / "a.wav", soxr.resample(chord, SR, 32000), 32000, subtype="FLOAT")
    report = score_folders(generated, reference, ["si_sdr"])
    assert report["per_file"]["si_sdr"]["a"] > 40
    assert report["per_file"]["si_sdr"]["a"] <= SI_SDR_CAP_DB


def test_sets_use_every_clip_of_both_folders(folders):
    generated, reference = folders
    report = score_folders(generated, reference, ["fad"], embedder=MeanEmbedder())
    fad = FrechetAudioDistance(MeanEmbedder())
    for name in ("a", "sub/b"):
        fad.update(estimate=sf.read(next(generated.glob(f"{name}.*")), dtype="float32")[0],
                   sample_rate=SR)
    for name in ("a", "sub/b", "extra"):
        fad.update(reference=sf.read(reference / f"{name}.wav", dtype="float32")[0], sample_rate=SR)
    assert report["metrics"]["fad"] == pytest.approx(fad.compute()["fad"], rel=1e-6)
    assert report["models"] == {"fad": "mean-std"}


def test_missing_reference_and_length_mismatch_are_errors(folders):
    generated, reference = folders
    sf.write(generated / "lonely.wav", _noise(5), SR)
    with pytest.raises(UnisonoError, match="no reference of the same name.*lonely"):
        score_folders(generated, reference, ["lsd"])
    (generated / "lonely.wav").unlink()
    sf.write(generated / "a.flac", _noise(1, seconds=1.1), SR, subtype="PCM_24")
    with pytest.raises(UnisonoError, match="lsd on 'a'.*lengths differ"):
        score_folders(generated, reference, ["lsd"])
    report = score_folders(generated, reference, ["lsd", "kl"], align="trim",
                           classifier=lambda audio, rate: np.array([0.5, 0.5]))
    assert report["per_file"]["lsd"]["a"] == pytest.approx(0.0, abs=1e-3)  # trimmed to 1 s
    assert report["metrics"]["kl"] == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(UnisonoError, match="unknown metric 'fid'"):
        score_folders(generated, reference, ["fid"])
    with pytest.raises(UnisonoError, match="not a folder"):
        score_folders(generated / "nope", reference, ["lsd"])


def test_captions_from_text_files(tmp_path):
    generated, reference = tmp_path / "g", tmp_path / "r"
    generated.mkdir()
    reference.mkdir()
    (generated / "c1.txt").write_text("A dog barks.\n")
    (reference / "c1.txt").write_text("a dog barks loudly\n\nthe dog barks\n")
    report = score_folders(generated, reference, ["bleu"])
    assert report["metrics"]["bleu_1"] == pytest.approx(1.0)  # closest reference: 3 words
    (generated / "c2.txt").write_text("rain\n")
    with pytest.raises(UnisonoError, match="c2.txt not found"):
        score_folders(generated, reference, ["bleu"])


def test_cli_writes_the_report(folders, tmp_path, capsys):
    from unisono.cli import score

    parser = argparse.ArgumentParser()
    score.register(parser.add_subparsers())
    out = tmp_path / "out" / "report.json"
    args = parser.parse_args(["score", str(folders[0]), str(folders[1]), "--metrics",
                              "si_sdr,lsd", "--out", str(out)])
    assert args.func(args) == 0
    report = json.loads(out.read_text())
    assert set(report["metrics"]) == {"si_sdr", "lsd"}
    assert "si_sdr" in capsys.readouterr().out
    bad = parser.parse_args(["score", str(folders[0]), str(folders[1]), "--metrics", "lsd,nope"])
    with pytest.raises(UnisonoError, match="unknown metric.*nope"):
        bad.func(bad)


def test_change_energy_reads_the_inputs_folder(tmp_path):
    from unisono.metrics import change_energy

    t = np.arange(2 * SR) / SR
    bed = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    event = (0.3 * np.sin(2 * np.pi * 3000 * t) * (t > 1)).astype(np.float32)
    folders = {name: tmp_path / name for name in ("generated", "reference", "source")}
    for folder, clip in zip(folders.values(), (bed + 0.5 * event, bed, bed + event), strict=True):
        folder.mkdir()
        sf.write(folder / "x.wav", clip, SR, subtype="FLOAT")
    report = score_folders(folders["generated"], folders["reference"], ["change_energy"],
                           source_dir=folders["source"])
    expected = change_energy(bed + event, bed, bed + 0.5 * event, SR)
    assert report["metrics"]["removed_db"] == pytest.approx(expected["removed_db"], abs=1e-4)
    assert report["metrics"]["removed_db"] == pytest.approx(-6.02, abs=0.05)
    with pytest.raises(UnisonoError, match="--source"):
        score_folders(folders["generated"], folders["reference"], ["change_energy"])
    (folders["source"] / "x.wav").rename(folders["source"] / "y.wav")
    with pytest.raises(UnisonoError, match="no input of the same name"):
        score_folders(folders["generated"], folders["reference"], ["change_energy"],
                      source_dir=folders["source"])

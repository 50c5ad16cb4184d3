"""Fitting the tagger's aiSFX probe (`unisono train-tagger-probe`): the fit on a separable case,
the feature cache against direct extraction, and a tiny end-to-end run whose written tagger
reproduces the picked fusion."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from unisono.audio import load_audio, save_audio
from unisono.config import load_config
from unisono.data.manifest import ManifestEntry, write_manifest
from unisono.errors import UnisonoError
from unisono.models.refnet import BackboneConfig
from unisono.models.tagger import Tagger, TaggerConfig, fuse_event_probabilities, probe_features
from unisono.refmodels import probe_train
from unisono.refmodels.probe_train import (
    ProbeFitConfig,
    TrainProbeConfig,
    build_probe_cache,
    fit_probe,
    train_tagger_probe,
)

EVENTS = ["dog bark", "rain", "whistle"]


def _separable(n: int = 120, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 3, size=n)
    features = rng.normal(0.0, 0.5, size=(n, 6)).astype(np.float32)
    features[np.arange(n), classes] += 3.0
    targets = np.eye(3, dtype=np.float32)[classes]
    return torch.tensor(features), torch.tensor(targets), classes


def test_a_linear_probe_separates_separable_classes_and_decay_shrinks_it() -> None:
    features, targets, classes = _separable()
    loose = fit_probe(features, targets, ProbeFitConfig(kind="linear"), 1e-5)
    tight = fit_probe(features, targets, ProbeFitConfig(kind="linear"), 1e-1)
    with torch.no_grad():
        assert np.array_equal(loose(features).argmax(1).numpy(), classes)
        test, _, test_classes = _separable(seed=1)
        assert np.mean(loose(test).argmax(1).numpy() == test_classes) > 0.95
    assert tight.weight.norm() < 0.5 * loose.weight.norm()


def test_an_mlp_probe_is_seeded_and_learns() -> None:
    features, targets, classes = _separable()
    config = ProbeFitConfig(kind="mlp", hidden=16, mlp_steps=300, mlp_batch=32, mlp_lr=1e-2)
    a, b = fit_probe(features, targets, config, 0.01, seed=3), fit_probe(features, targets, config, 0.01, seed=3)
    assert not a.training
    with torch.no_grad():
        assert torch.equal(a(features), b(features))
        assert np.mean(a(features).argmax(1).numpy() == classes) > 0.95


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """12 short labelled clips (tone pitch by label) and a tiny random tagger folder."""
    root = tmp_path_factory.mktemp("probe")
    rng = np.random.default_rng(0)
    entries = []
    for index in range(12):
        t = np.arange(int((0.6 + 0.2 * (index % 3)) * 16000)) / 16000
        tone = 0.2 * np.sin(2 * np.pi * (300 + 900 * (index % 3)) * t)
        save_audio(root / "audio" / f"{index}.wav",
                   (tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32), 16000)
        entries.append(ManifestEntry(id=f"c{index}", path=f"audio/{index}.wav", kind="sfx",
                                     labels=[EVENTS[index % 3]]))
    manifest = write_manifest(root / "manifest.jsonl", entries)
    torch.manual_seed(0)
    tagger = Tagger(TaggerConfig(backbone=BackboneConfig(channels=[4, 8]), events=EVENTS,
                                 instruments=["piano"], voices=["none"], hidden=8))
    return manifest, tagger.save_pretrained(root / "tagger"), root


def test_the_cache_holds_what_direct_extraction_gives(clips, tmp_path, monkeypatch) -> None:
    manifest, tagger_dir, root = clips
    one = build_probe_cache(manifest, tmp_path / "a", tagger=str(tagger_dir), workers=1)
    two = build_probe_cache(manifest, tmp_path / "b", tagger=str(tagger_dir), workers=2)
    # shards reassembled in order (one thread per worker: float sums may differ in the last bit)
    np.testing.assert_allclose(one.features, two.features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(one.codec_cnn, two.codec_cnn, rtol=1e-5, atol=1e-6)
    assert one.features.shape == (12, 1024) and one.cnn.shape == (12, 3)
    tagger = Tagger.from_pretrained(tagger_dir)
    audio, _ = load_audio(root / "audio" / "7.wav", 16000)
    np.testing.assert_allclose(one.features[7], probe_features([audio], 16000, 16000)[0], rtol=1e-5)
    np.testing.assert_allclose(one.cnn[7], tagger.predict(audio, 16000).probabilities["event"][0],
                               rtol=1e-5)
    assert not np.allclose(one.codec_features, one.features)  # the round trip changes the audio
    # a second call reads the cache; a clean-only cache is another folder
    monkeypatch.setattr(probe_train, "_extract_shard", lambda job: pytest.fail("rebuilt"))
    np.testing.assert_array_equal(build_probe_cache(manifest, tmp_path / "a", tagger=str(tagger_dir)
                                                    ).features, one.features)
    with pytest.raises(pytest.fail.Exception, match="rebuilt"):
        build_probe_cache(manifest, tmp_path / "a", tagger=str(tagger_dir), with_codec=False)
    with pytest.raises(UnisonoError, match="manifest not found"):
        build_probe_cache(tmp_path / "none.jsonl", tmp_path / "a", tagger=str(tagger_dir))


def _config(clips, tmp_path, *extra: str) -> TrainProbeConfig:
    manifest, tagger_dir, _ = clips
    return load_config(TrainProbeConfig, None, [
        f"tagger={tagger_dir}", f"data.manifests=[{manifest}]", "data.renders=[]",
        "data.real_clips=false", f"data.val_manifests=[{manifest}]",
        f"data.cache_dir={tmp_path / 'cache'}", "probe.weight_decays=[1.0e-4, 1.0e-1]",
        "probe.fusion_weights=[0.0, 0.5, 1.0]", f"run.output_dir={tmp_path / 'run'}", *extra])


def test_a_run_writes_the_picked_probe_into_a_loadable_tagger(clips, tmp_path) -> None:
    manifest, tagger_dir, root = clips
    final = train_tagger_probe(_config(clips, tmp_path), show_progress=False)
    report = json.loads((final.parent / "report.json").read_text())
    grid = report["grid"]
    assert len(grid) == 6 and report["training_rows"] == 24  # clean + codec copies
    assert report["validation_single_event_clips"] == 12
    best = max(point["top1_macro_f1"] for point in grid)
    assert report["picked"]["top1_macro_f1"] == best
    assert report["picked"] == next(p for p in grid if p["top1_macro_f1"] == best)
    assert [p["top1_macro_f1"] for p in grid if p["fusion_weight"] == 0.0] == [report["cnn_alone"]] * 2
    # the written tagger: the same CNN, and its event head is the picked fusion
    probed, plain = Tagger.from_pretrained(final), Tagger.from_pretrained(tagger_dir)
    assert probed.config.probe.weight == report["picked"]["fusion_weight"]
    assert probed.config.probe.hidden == 0
    audio, _ = load_audio(root / "audio" / "4.wav", 16000)
    cnn = plain.predict(audio, 16000).probabilities["event"]
    features = probed.probe_features(audio, 16000)
    with torch.no_grad():
        logits = probed.probe((torch.tensor(features) - probed.probe_mean) / probed.probe_std)
    expected = fuse_event_probabilities(cnn, logits.double().numpy(), probed.config.probe.weight)
    np.testing.assert_allclose(probed.predict(audio, 16000).probabilities["event"], expected,
                               rtol=1e-5)
    for head in ("instrument", "voice", "gender"):
        np.testing.assert_allclose(probed.predict(audio, 16000).probabilities[head],
                                   plain.predict(audio, 16000).probabilities[head], rtol=1e-5)


@pytest.mark.parametrize(("override", "match"), [
    ("probe.kind=svm", "probe.kind must be one of linear, mlp"),
    ("probe.fusion_weights=[1.5]", r"fusion_weights.*\[0, 1\]"),
    ("probe.weight_decays=[]", "weight_decays"),
    ("data.val_manifests=[]", "set data.val_manifests"),
])
def test_bad_configs_are_named(clips, tmp_path, override, match) -> None:
    with pytest.raises(UnisonoError, match=match):
        train_tagger_probe(_config(clips, tmp_path, override), show_progress=False)


def test_cli_reports_the_pick(clips, tmp_path, capsys) -> None:
    from unisono.cli import main

    manifest, tagger_dir, _ = clips
    config = tmp_path / "probe.yaml"
    config.write_text(f"tagger: {tagger_dir}\ndata: {{manifests: [{manifest}], renders: [], "
                      f"real_clips: false, val_manifests: [{manifest}], cache_dir: {tmp_path}/c}}\n"
                      f"probe: {{codec_copies: false, weight_decays: [0.001]}}\n"
                      f"run: {{output_dir: {tmp_path}/run}}\n")
    assert main(["train-tagger-probe", str(config)]) == 0
    assert "validation top-1 macro F1" in capsys.readouterr().out
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()

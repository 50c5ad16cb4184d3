"""The world end to end: determinism, stems sum to the mix, onsets match energy, valid manifests."""

import filecmp
import json

import numpy as np
import pytest
import soundfile as sf

from unisono.world.render import SceneRenderer
from unisono.world.scene import EventLayer, SceneSampler, SceneSpec
from unisono.world.writer import render_world

SR = 16000


def energy_onset(audio: np.ndarray, sr: int, *, frame: float = 0.005, rel_db: float = -40.0) -> float:
    """Start time of the first 5 ms frame whose energy is within rel_db of the loudest frame."""
    hop = int(frame * sr)
    frames = audio[: audio.shape[0] // hop * hop].reshape(-1, hop)
    energy = np.mean(frames.astype(np.float64) ** 2, axis=1)
    first = int(np.argmax(energy > energy.max() * 10 ** (rel_db / 10)))
    return first * hop / sr


@pytest.fixture(scope="module")
def rendered_twice(tmp_path_factory):
    outs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        render_world(out, n=6, seed=3, split="train", kinds="sfx,music,scene,speech", progress=False,
                     pairs=True)
        outs.append(out)
    return outs


def test_two_renders_are_byte_identical(rendered_twice):
    a, b = rendered_twice
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 6 * 3
    mismatched = [str(p) for p in files_a if not filecmp.cmp(a / p, b / p, shallow=False)]
    assert not mismatched


def test_stems_sum_to_mix(rendered_twice):
    out = rendered_twice[0]
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        mix, sr = sf.read(out / row["path"], dtype="float32")
        assert sr == SR and mix.shape[0] == round(row["duration"] * SR)
        stems = [sf.read(out / p, dtype="float64")[0] for p in row["stems"].values()]
        assert stems, row["id"]
        assert np.max(np.abs(np.sum(stems, axis=0) - mix)) < 1e-6


def test_manifest_rows_are_valid_and_checked_clean(rendered_twice):
    from unisono.data.check import check_manifest
    from unisono.data.manifest import read_manifest

    manifest = rendered_twice[0] / "manifest.jsonl"
    entries = read_manifest(manifest)
    assert {e.kind for e in entries} == {"sfx", "music", "scene", "speech"}
    for entry in entries:
        assert len(set(entry.captions)) >= 3 and entry.split == "train"
        if entry.kind == "speech":
            assert entry.transcript and entry.speaker and entry.gender in ("female", "male")
            assert entry.phonemes and entry.phonemes[-1].end <= entry.duration + 1e-3
        if entry.kind == "music":
            assert entry.key and entry.mode and entry.tempo and entry.instrument
        if entry.kind == "sfx":
            assert entry.events and all(0 <= e.onset < e.offset <= entry.duration + 1e-3 for e in entry.events)
    report = check_manifest(manifest, audio=True)
    assert report.ok, report.problems


def test_isolated_event_onsets_match_energy_onsets():
    """Every procedural class and a sample of real clips, placed alone at a random onset."""
    from unisono.world import real, sfx

    renderer = SceneRenderer()
    rng = np.random.default_rng(0)
    layers = []
    for name, event_class in sfx.EVENT_CLASSES.items():
        count = event_class.count_range[0] if event_class.countable else None
        duration = float(np.mean(event_class.duration_range))
        layers.append(EventLayer(name=name, onset=0.0, duration=min(duration, 2.5), level_db=-20.0,
                                 seed=int(rng.integers(1 << 30)), count=count))
    clips = real.index_real_clips()
    for clip in [clips[i] for i in rng.choice(len(clips), size=min(20, len(clips)), replace=False)]:
        layers.append(EventLayer(name=clip.label, onset=0.0, duration=min(clip.duration, 2.5),
                                 level_db=-20.0, seed=0, source="real", path=clip.path))
    errors = {}
    for index, layer in enumerate(layers):
        layer.onset = round(float(rng.uniform(0.2, 1.5)), 3)
        spec = SceneSpec(id=f"onset-{index}", kind="sfx", split="test", seed=index, sample_rate=SR,
                         duration=layer.onset + layer.duration + 0.2, events=[layer])
        rendered = renderer.render(spec)
        error = abs(energy_onset(rendered.mix, SR) - rendered.metadata["events"][0]["onset"])
        if error > 0.020:
            errors[layer.name] = round(error, 3)
    assert not errors, errors


def test_train_never_draws_heldout_material():
    from unisono.world import text

    train = SceneSampler(split="train")
    heldout = SceneSampler(split="test", heldout=True)
    held = set(text.HELD_OUT_SENTENCES)
    for index in range(40):
        spec = train.make("speech", seed=0, index=index)
        assert spec.speech[0].text not in held
        spec = heldout.make("speech", seed=0, index=index)
        assert spec.speech[0].text in held
        sfx_spec = train.make("sfx", seed=0, index=index)
        from unisono.world import sfx

        for event in sfx_spec.events:
            if event.source == "procedural":
                assert event.variant < sfx.EVENT_CLASSES[event.name].n_variants - 1
        for event in heldout.make("sfx", seed=0, index=index).events:
            if event.source == "procedural":
                assert event.variant == sfx.EVENT_CLASSES[event.name].n_variants - 1


def test_spec_json_round_trip():
    spec = SceneSampler(split="val").make("scene", seed=5, index=7)
    assert SceneSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec

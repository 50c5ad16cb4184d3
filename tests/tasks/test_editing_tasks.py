"""Editing tasks and timed composition: exact stem arithmetic, named events, timing, restyle
pitch, reproducibility, user manifests without world metadata, and clear errors."""

from __future__ import annotations

import re

import librosa
import numpy as np
import pytest
from task_fixtures import RATE, folder_pool, world_pool

from unisono.audio import rms
from unisono.data.clips import event_names
from unisono.data.manifest import ManifestEntry, Note
from unisono.errors import UnisonoError
from unisono.tasks import TAG_TRANSFORM, TASKS, ClipPool, get_task
from unisono.tasks.editing import (
    SNR_RANGE_DB,
    draw_background,
    edit_mixture,
    phrase,
    restyle_pair,
    seconds_text,
    timed_mixture,
    with_article,
)
from unisono.world import music

EDITS = ("edit_add", "edit_remove", "edit_replace", "edit_extract")
MINE = (*EDITS, "edit_restyle", "timed")
SEEDS = range(6)


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> ClipPool:
    return world_pool(tmp_path_factory)


def _example_and_stems(name: str, pool: ClipPool, seed: int):
    example = get_task(name).build(pool, np.random.default_rng([seed, 1]))
    # The builder's first draws build the mixture, so the same generator state rebuilds its stems.
    mixture, events = edit_mixture(name, pool, np.random.default_rng([seed, 1]),
                                   replacement=name == "edit_replace")
    return example, mixture, events


def test_registry_entries_have_templates_families_and_recipes() -> None:
    for name in MINE:
        task = TASKS[name]
        assert len(task.templates) >= 10 and len(set(task.templates)) == len(task.templates)
        assert task.family == ("generation" if name == "timed" else "editing")
        assert not task.uses_latent_cache
        assert task.recipe.cfg > 1.0
    assert all("{event}" in t for name in EDITS if name != "edit_replace"
               for t in TASKS[name].templates)
    assert all("{old}" in t and "{new}" in t for t in TASKS["edit_replace"].templates)
    assert all("{timeline}" in t for t in TASKS["timed"].templates)


@pytest.mark.parametrize("seed", SEEDS)
def test_remove_target_is_the_mix_minus_the_event(pool, seed) -> None:
    example, mixture, events = _example_and_stems("edit_remove", pool, seed)
    event = mixture.stems["event"]
    assert rms(event) > 1e-3
    np.testing.assert_allclose(example.target, example.source - event, rtol=0, atol=1e-6)
    assert np.array_equal(example.target, mixture.stems["background"])
    assert example.source_tag == TAG_TRANSFORM and example.source.shape == example.target.shape


@pytest.mark.parametrize("seed", SEEDS)
def test_add_source_plus_the_event_is_the_target(pool, seed) -> None:
    example, mixture, events = _example_and_stems("edit_add", pool, seed)
    np.testing.assert_allclose(example.source + mixture.stems["event"], example.target,
                               rtol=0, atol=1e-6)
    assert np.array_equal(example.source, mixture.stems["background"])
    assert example.duration == pytest.approx(example.target.shape[0] / RATE)
    assert example.target.shape[0] <= pool.max_seconds * RATE


@pytest.mark.parametrize("seed", SEEDS)
def test_replace_swaps_one_event_for_another_at_the_same_onset(pool, seed) -> None:
    example, mixture, events = _example_and_stems("edit_replace", pool, seed)
    old, new = mixture.stems["event"], mixture.stems["new"]
    np.testing.assert_allclose(example.source - old + new, example.target, rtol=0, atol=1e-6)
    assert events[0].entry.id != events[1].entry.id
    onset = int(round(mixture.onsets["event"] * RATE))
    for stem in (old, new):
        assert not stem[:onset].any() and np.abs(stem[onset : onset + 400]).max() > 0
    # one SNR for both: equal RMS over their own samples (fades aside)
    levels = [rms(s[np.flatnonzero(s)[0] : np.flatnonzero(s)[-1]]) for s in (old, new)]
    assert abs(20 * np.log10(levels[0] / levels[1])) < 1.0
    assert phrase(events[0].name).lower() in example.instruction.lower()
    assert phrase(events[1].name).lower() in example.instruction.lower()


@pytest.mark.parametrize("seed", SEEDS)
def test_extract_target_is_the_event_alone(pool, seed) -> None:
    example, mixture, events = _example_and_stems("edit_extract", pool, seed)
    assert np.array_equal(example.target, mixture.stems["event"])
    np.testing.assert_allclose(example.source - example.target, mixture.stems["background"],
                               rtol=0, atol=1e-6)
    assert np.abs(example.target).max() <= 0.99 + 1e-6


@pytest.mark.parametrize("name", ("edit_add", "edit_remove", "edit_extract"))
@pytest.mark.parametrize("seed", SEEDS)
def test_instruction_names_the_event_and_its_true_onset(pool, name, seed) -> None:
    example, mixture, events = _example_and_stems(name, pool, seed)
    assert events[0].name in event_names(events[0].entry)
    assert phrase(events[0].name).lower() in example.instruction.lower()
    onset = mixture.onsets["event"]
    assert onset * 10 == pytest.approx(round(onset * 10))  # 0.1 s grid
    times = re.findall(r"(\d+(?:\.\d)?) s(?:econds)?\b", example.instruction)
    assert times in ([], [seconds_text(onset)])
    stem = mixture.stems["event"]
    first = int(np.flatnonzero(stem)[0])
    assert round(onset * RATE) <= first <= round(onset * RATE) + 0.005 * RATE


def test_event_to_background_snr_is_in_range(pool) -> None:
    for seed in SEEDS:
        _, mixture, _ = _example_and_stems("edit_add", pool, seed)
        event = mixture.stems["event"]
        active = event[np.flatnonzero(event)[0] : np.flatnonzero(event)[-1] + 1]
        snr = 20 * np.log10(rms(active) / rms(mixture.stems["background"]))
        assert SNR_RANGE_DB[0] - 1.0 <= snr <= SNR_RANGE_DB[1] + 0.1  # fades lower it a little


@pytest.mark.parametrize("name", MINE)
def test_same_seed_gives_the_same_example(pool, name) -> None:
    build = get_task(name).build
    first, again = (build(pool, np.random.default_rng([11, 3])) for _ in range(2))
    other = build(pool, np.random.default_rng([12, 3]))
    assert first.instruction == again.instruction
    assert first.target.tobytes() == again.target.tobytes()
    assert (first.source is None) == (name == "timed")
    if first.source is not None:
        assert first.source.tobytes() == again.source.tobytes()
        assert first.source.shape == first.target.shape
    assert first.target.tobytes() != other.target.tobytes()


def test_timed_events_sit_where_the_instruction_says(pool) -> None:
    for seed in SEEDS:
        example = get_task("timed").build(pool, np.random.default_rng([seed, 1]))
        mixture, events, spans = timed_mixture("timed", pool, np.random.default_rng([seed, 1]))
        assert example.source is None
        np.testing.assert_allclose(example.target, mixture.mix(), rtol=0, atol=0)
        assert example.target.shape[0] <= pool.max_seconds * RATE
        previous_end = 0.0
        for index, (drawn, (start, end)) in enumerate(zip(events, spans, strict=True)):
            stem = mixture.stems[f"event{index}"]
            sounding = np.flatnonzero(stem)
            # trimming works in 10 ms frames: the sound fills the span to within one frame
            assert abs(sounding[0] / RATE - start) < 0.011 and abs(sounding[-1] / RATE - end) < 0.011
            assert start >= previous_end and start * 10 == pytest.approx(round(start * 10))
            previous_end = end
            assert f"{seconds_text(start)} s" in example.instruction
            assert f"{seconds_text(round(end, 1))} s" in example.instruction
            assert phrase(drawn.name).lower() in example.instruction.lower()


def test_backgrounds_avoid_the_edited_sound_while_others_exist(tmp_path) -> None:
    import soundfile as sf

    entries = []
    for name, labels, captions in (("park", ["dog bark", "wind"], []),
                                   ("street", ["traffic"], []),
                                   ("yard", [], ["A dog bark echoes in a yard"])):
        path = tmp_path / f"{name}.wav"
        sf.write(str(path), 0.1 * np.random.default_rng(0).standard_normal(3 * RATE), RATE)
        entries.append(ManifestEntry(id=name, path=str(path), kind="scene", duration=3.0,
                                     labels=labels, captions=captions))
    pool = ClipPool(entries, sample_rate=RATE, max_seconds=10.0)
    chosen = {draw_background("edit_remove", pool, np.random.default_rng(seed), min_samples=RATE,
                              avoid=("dog bark",))[0].id for seed in range(12)}
    assert chosen == {"street"}
    anything = {draw_background("edit_remove", pool, np.random.default_rng(seed),
                                min_samples=RATE)[0].id for seed in range(12)}
    assert anything == {"park", "street", "yard"}


def _restyle_pool(tmp_path, instrument: str | None) -> ClipPool:
    notes = [Note(60, 0.5, 1.4, 100), Note(64, 1.5, 2.4, 100)]  # C4 then E4
    entry = ManifestEntry(id="tune", path=str(tmp_path / "unused.wav"), duration=3.0, kind="music",
                          captions=["a two-note tune"], instrument=instrument, notes=notes)
    return ClipPool([entry], sample_rate=RATE, max_seconds=10.0)


def _median_f0(audio: np.ndarray, start: float, end: float) -> float:
    segment = audio[int((start + 0.1) * RATE) : int((end - 0.1) * RATE)]
    return float(np.median(librosa.yin(segment, fmin=150, fmax=600, sr=RATE, frame_length=1024)))


@pytest.mark.parametrize("seed", range(3))
def test_restyle_plays_the_same_notes_on_another_instrument(tmp_path, seed) -> None:
    pool = _restyle_pool(tmp_path, "piano")
    rng = np.random.default_rng(seed)
    _, source_name, target_name, source, target = restyle_pair("edit_restyle", pool, rng)
    assert source_name == "piano" and target_name in music.INSTRUMENTS
    assert music.INSTRUMENTS[target_name] != music.INSTRUMENTS["piano"]
    assert source.shape == target.shape == (3 * RATE,)
    assert rms(source) == pytest.approx(rms(target), rel=1e-3)
    assert not np.allclose(source, target, atol=1e-3)
    for audio in (source, target):
        assert rms(audio[: int(0.45 * RATE)]) < 1e-4  # silent before the first note
        assert _median_f0(audio, 0.5, 1.4) == pytest.approx(261.63, rel=0.03)
        assert _median_f0(audio, 1.5, 2.4) == pytest.approx(329.63, rel=0.03)
    example = get_task("edit_restyle").build(pool, np.random.default_rng(seed))
    assert with_article(target_name) in example.instruction


def test_restyle_with_unknown_or_no_instrument_names_and_on_drums(tmp_path) -> None:
    for name in (None, "ukulele"):  # not General MIDI names: the source gets a fitting one
        _, source_name, target_name, source, target = restyle_pair(
            "edit_restyle", _restyle_pool(tmp_path, name), np.random.default_rng(0))
        assert source_name in music.INSTRUMENTS and target_name in music.INSTRUMENTS
        assert source_name != target_name and rms(target) > 1e-3
        assert _median_f0(source, 0.5, 1.4) == pytest.approx(261.63, rel=0.03)
    kits = ClipPool([ManifestEntry(
        id="beat", path="/unused.wav", duration=2.0, kind="music", instrument="drum kit",
        notes=[Note(36, 0.0, 0.1, 110), Note(38, 0.5, 0.6, 100), Note(42, 1.0, 1.1, 90)],
    )], sample_rate=RATE, max_seconds=10.0)
    _, source_name, target_name, _, _ = restyle_pair("edit_restyle", kits, np.random.default_rng(1))
    assert source_name == "drum kit" and target_name in music.DRUM_KITS and target_name != "drum kit"


def test_builders_work_on_a_folder_import_without_world_metadata(tmp_path) -> None:
    pool = folder_pool(tmp_path)
    assert all(entry.kind == "audio" and not entry.captions for entry in pool.entries)
    for name in (*EDITS, "timed"):
        for seed in range(3):
            example = get_task(name).build(pool, np.random.default_rng([seed, 1]))
            assert "dog bark" in example.instruction or "rain" in example.instruction
            assert example.target.dtype == np.float32 and np.isfinite(example.target).all()
            if example.source is not None:
                assert example.source.shape == example.target.shape
    with pytest.raises(UnisonoError, match="music clips with `notes`"):
        get_task("edit_restyle").build(pool, np.random.default_rng(0))


def test_pools_lacking_clips_fail_clearly(tmp_path) -> None:
    empty = ClipPool([], sample_rate=RATE, max_seconds=10.0)
    for name in MINE:
        with pytest.raises(UnisonoError, match=f"task {name} needs at least .* set the task's weight"):
            get_task(name).build(empty, np.random.default_rng(0))
    speech_only = ClipPool([ManifestEntry(id="s", path="/x.wav", kind="speech", duration=2.0,
                                          transcript="hi", captions=["a man says hi"])],
                           sample_rate=RATE, max_seconds=10.0)
    with pytest.raises(UnisonoError, match="captioned or labelled sfx/audio clips"):
        get_task("edit_add").build(speech_only, np.random.default_rng(0))
    relative = ClipPool([ManifestEntry(id="e", path="rel/e.wav", kind="sfx", duration=1.0,
                                       labels=["bell"]),
                         ManifestEntry(id="b", path="rel/b.wav", kind="scene", duration=5.0)],
                        sample_rate=RATE, max_seconds=10.0)
    with pytest.raises(UnisonoError, match="pool_from_manifests"):
        get_task("edit_add").build(relative, np.random.default_rng(0))
    relative.sample_rate = 0
    for name in MINE:
        with pytest.raises(UnisonoError, match="codec.sample_rate"):
            get_task(name).build(relative, np.random.default_rng(0))

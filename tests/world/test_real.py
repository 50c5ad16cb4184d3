"""Real recorded clips from Debian packages: index size, clean labels, loading and splits."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from unisono.errors import UnisonoError
from unisono.world import real

SR = 16000


@pytest.fixture(scope="module")
def clips() -> list[real.RealClip]:
    found = real.index_real_clips()
    if not found:
        pytest.skip("no Debian sound packages installed")
    return found


def test_index_is_large_and_every_label_splittable(clips):
    labels = real.real_labels(clips)
    assert len(clips) >= 300
    assert len(labels) >= 40
    assert min(labels.values()) >= real.MIN_CLIPS_PER_LABEL
    for expected in ("explosion", "kick drum", "snare drum", "hi-hat", "sword clash", "fire"):
        assert expected in labels
    assert {c.source for c in clips} <= set(real.DEFAULT_ROOTS)


def test_labels_are_clean_words(clips):
    for label in real.real_labels(clips):
        assert re.fullmatch(r"[a-z]+(?:[ -][a-z]+)*", label), label


def test_index_is_sorted_deterministic_and_durations_right(clips):
    assert [c.path for c in clips] == sorted(c.path for c in clips)
    assert real.index_real_clips() == clips
    for clip in clips[:: max(1, len(clips) // 20)]:
        info = sf.info(clip.path)
        assert abs(clip.duration - info.frames / info.samplerate) < 1e-5
        assert real.MIN_SECONDS <= clip.duration <= real.MAX_SECONDS


def test_loading_trims_leading_silence_and_normalises(clips):
    by_source = {}
    for clip in clips:
        by_source.setdefault(clip.source, []).append(clip)
    for group in by_source.values():
        for clip in group[:: max(1, len(group) // 3)][:3]:
            audio = real.load_real_clip(clip, sample_rate=SR)
            assert audio.dtype == np.float32 and audio.ndim == 1
            assert abs(float(np.max(np.abs(audio))) - 0.5) < 1e-6
            first_loud = int(np.argmax(np.abs(audio) >= 0.03 * 0.5))
            assert first_loud <= 0.010 * SR, (clip.path, first_loud)
            assert audio.size <= clip.duration * SR + 2


def test_split_is_deterministic_and_about_80_10_10(clips):
    splits = [real.split_of_clip(c) for c in clips]
    assert splits == [real.split_of_clip(c) for c in clips]
    share = {k: v / len(splits) for k, v in Counter(splits).items()}
    assert abs(share["train"] - 0.8) < 0.05
    assert abs(share["val"] - 0.1) < 0.04 and abs(share["test"] - 0.1) < 0.04


def test_clean_name_splits_and_strips():
    assert real.clean_name("airmine_impact2") == "airmine impact"
    assert real.clean_name("PoisonCough") == "poison cough"
    assert real.clean_name("human-old-hit-3") == "human old hit"
    assert real.clean_name("1C") == "c"


def test_custom_root_uses_table_and_filters(tmp_path):
    tone = 0.3 * np.sin(np.linspace(0, 200, 8000)).astype(np.float32)
    sounds = tmp_path / "game" / "sounds"
    (tmp_path / "game" / "music").mkdir(parents=True)
    sounds.mkdir(parents=True)
    for name in ("sword-1.wav", "axe.wav", "hatchet.wav", "lonely-thing.wav"):
        sf.write(sounds / name, np.concatenate([np.zeros(800, np.float32), tone]), 8000)
    sf.write(sounds / "spear.wav", np.zeros(25 * 8000, np.float32) + 0.1, 8000)  # too long
    sf.write(tmp_path / "game" / "music" / "axe-theme.wav", tone, 8000)  # a music folder
    found = real.index_real_clips({"mygame": str(tmp_path / "game")})
    assert [c.label for c in found] == ["sword clash"] * 3  # lonely thing has < 3 clips
    assert all(c.source == "mygame" for c in found)
    audio = real.load_real_clip(found[0], sample_rate=SR)
    assert int(np.argmax(np.abs(audio) > 0.015)) <= 0.003 * SR  # 100 ms of silence trimmed


def test_missing_packages_give_empty_index_and_clear_error(tmp_path):
    roots = {"wesnoth": str(tmp_path / "nothing")}
    assert real.index_real_clips(roots) == []
    with pytest.raises(UnisonoError, match="hydrogen-drumkits"):
        real.require_real_clips(roots)

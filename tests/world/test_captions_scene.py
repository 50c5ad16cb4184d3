"""Captions and scene seeds: pure logic, no audio."""

import numpy as np
import pytest

from unisono import UnisonoError
from unisono.world import captions as cap
from unisono.world.scene import SPLITS, scene_seed, split_of_seed


def test_articles_and_seconds():
    assert cap.article("owl hoot") == "an owl hoot" and cap.article("siren") == "a siren"
    assert cap.article("waves") == "waves" and cap.article("typing") == "typing"
    assert cap.article("rain") == "rain" and cap.article("phone ring") == "a phone ring"
    assert cap.seconds(2.0) == "2 s" and cap.seconds(2.54) == "2.5 s"


def test_paraphrases_distinct_and_timed():
    rng = np.random.default_rng(0)
    layers = [(0.5, cap.event_phrases("siren", ("wails", "blares"), None, rng)),
              (3.0, cap.event_phrases("dog bark", ("barks",), 3, rng))]
    timed = [(0.5, 2.5, "a siren"), (3.0, 4.2, "a dog bark")]
    captions = cap.paraphrases(layers, timed, "steady rain", rng)
    assert len(captions) >= cap.MIN_PARAPHRASES and len(set(captions)) == len(captions)
    assert captions[-1] == "From 0.5 s to 2.5 s a siren, then from 3 s to 4.2 s a dog bark, over steady rain"
    assert all("siren" in c for c in captions[:-1])
    assert any("three times" in c or "three dog bark" in c for c in captions[:-1])


def test_single_phrase_scene_still_gets_three_captions():
    rng = np.random.default_rng(1)
    captions = cap.paraphrases([(0.0, ["a gong"])], [], None, rng)
    assert len(set(captions)) >= 3


def test_scene_seeds_never_shared_between_splits():
    seen = {split: {scene_seed(s, i, split) for s in range(4) for i in range(500)} for split in SPLITS}
    assert not (seen["train"] & seen["val"]) and not (seen["train"] & seen["test"])
    assert not (seen["val"] & seen["test"])
    assert all(split_of_seed(v) == split for split in SPLITS for v in seen[split])
    assert len(seen["train"]) == 2000  # no collisions within a split either


def test_scene_seed_rejects_bad_input():
    with pytest.raises(UnisonoError, match="split"):
        scene_seed(0, 0, "dev")
    with pytest.raises(UnisonoError, match="index"):
        scene_seed(0, -1, "train")

"""Singing voice synthesis: phones tile the clip, each with the pitch of the note sounding."""

from __future__ import annotations

import numpy as np
import pytest
from test_speech_tasks import shared_parts

from unisono.data.manifest import Note
from unisono.errors import UnisonoError
from unisono.tasks import get_task
from unisono.tasks.singing import key_words, phone_pitches


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    return shared_parts(tmp_path_factory)


def _examples(pool, count: int, seed: int = 0) -> list:
    return [get_task("svs").build(pool, np.random.default_rng([seed, i])) for i in range(count)]


def _sounding(notes, time: float) -> int:
    return next((n.pitch for n in notes if n.onset <= time < n.offset), 0)


def test_svs_pitches_match_the_notes(parts) -> None:
    examples = _examples(parts.world, 4)
    assert len({e.target_clip for e in examples}) >= 2
    for example in examples:
        entry = parts.entries[example.target_clip]
        ends = np.cumsum(example.phone_seconds)
        middles = ends - np.asarray(example.phone_seconds) / 2
        expected = [_sounding(entry.notes, float(t)) for t in middles]
        assert example.phone_pitch == expected
        sung = [p for p, s in zip(example.phone_pitch, example.phones, strict=True) if s != "_"]
        assert all(p > 0 for p in sung)  # the world sings every phone on a note
        assert set(sung) <= {n.pitch for n in entry.notes}


def test_svs_batch_tiles_the_clip_and_names_voice_and_key(parts) -> None:
    examples = _examples(parts.world, 3, seed=1)
    batch = parts.assembler.assemble(examples, step=0, seed=0)
    for row, example in enumerate(examples):
        entry = parts.entries[example.target_clip]
        length = parts.cache[entry.id].shape[1]
        count = len(example.phones)
        assert abs(int(batch.content_frames[row].sum()) - length) <= 1
        assert sum(example.phone_seconds) == pytest.approx(entry.duration, abs=1e-6)
        pitch_ids = [p + 1 if p else 0 for p in example.phone_pitch]
        assert batch.content_pitch[row, :count].tolist() == pitch_ids
        assert (batch.content_symbols[row, :count] > 1).all()
        assert f" in {entry.key}" in example.instruction.replace(" flat", "b")
        assert "female" in example.instruction  # the fixture's singers are women
        assert entry.transcript not in example.instruction  # lyrics come as phones
    assert batch.loss_mask.sum() == sum(parts.cache[e.target_clip].shape[1] for e in examples)


def test_phone_pitch_takes_the_longest_overlapping_note() -> None:
    notes = [Note(60, 0.0, 0.5), Note(62, 0.5, 1.0), Note(64, 1.5, 2.0)]
    # phones [0, 0.4) [0.4, 0.9) [0.9, 1.65) [1.65, 2.2) [2.2, 2.5): the third overlaps 62 for
    # 0.1 s and 64 for 0.15 s; the last overlaps no note.
    pitches = phone_pitches([0.4, 0.5, 0.75, 0.55, 0.3], notes)
    assert pitches == [60, 62, 64, 64, 0]
    assert phone_pitches([0.2, 0.3], []) == [0, 0]


def test_key_words() -> None:
    assert key_words("D") == " in D"
    assert key_words("Eb") == " in E flat"
    assert key_words("f#", "Minor") == " in F sharp minor"
    assert key_words(None) == "" and key_words("C", "dorian") == " in C"


def test_svs_same_seed_same_example(parts) -> None:
    first, again = (_examples(parts.world, 1, seed=5)[0] for _ in range(2))
    assert first == again


def test_svs_without_phones_or_notes_fails_clearly(parts) -> None:
    # The user pool's singing rows have lyrics and a singer but neither phones nor notes.
    with pytest.raises(UnisonoError, match="`phonemes` and `notes`"):
        get_task("svs").build(parts.user, np.random.default_rng(0))

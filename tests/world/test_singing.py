"""Singing: pitch of each sung note (swift-f0) and timing equal to the score."""

import numpy as np
import pytest

from unisono.errors import UnisonoError
from unisono.world.singing import SungNote, random_song, sing, syllables
from unisono.world.speech import SILENCE

RATE = 16000


def test_random_song_is_deterministic_in_key_and_fits_duration():
    notes = random_song(np.random.default_rng(1), duration=6.0, key="F")
    assert notes == random_song(np.random.default_rng(1), duration=6.0, key="F")
    assert notes and notes[-1].offset <= 6.0
    assert {(n.pitch - 65) % 12 for n in notes} <= {0, 2, 4, 5, 7, 9, 11}  # F major, F4 = 65
    assert all(b.onset >= a.offset for a, b in zip(notes, notes[1:], strict=False))
    assert syllables("banana") == ["ba", "na", "na"] and syllables("make") == ["make"]


def test_sung_notes_have_the_score_pitch_and_timing():
    swift_f0 = pytest.importorskip("swift_f0")
    notes = random_song(np.random.default_rng(0), duration=8.0, key="D")
    utt = sing(notes, "espeak-en-us-f1", sample_rate=RATE)
    assert abs(utt.duration - notes[-1].offset) < 0.01
    result = swift_f0.SwiftF0().detect(utt.audio, RATE)
    good = 0
    for note in notes:
        span = note.offset - note.onset
        inside = ((result.timestamps >= note.onset + 0.3 * span)
                  & (result.timestamps <= note.offset - 0.3 * span) & (result.confidence > 0.5))
        if inside.any():
            target = 440.0 * 2 ** ((note.pitch - 69) / 12)
            cents = 1200 * np.log2(np.median(result.pitch_hz[inside]) / target)
            good += abs(cents) < 50
    assert good >= 0.8 * len(notes)
    # Phones: contiguous, and each note's phones start at its onset.
    phones = utt.phonemes
    assert all(a.end == b.start for a, b in zip(phones, phones[1:], strict=False))
    starts = {round(p.start, 6) for p in phones if p.symbol != SILENCE}
    assert all(round(n.onset, 6) in starts for n in notes)


def test_singing_rejects_bad_input():
    with pytest.raises(UnisonoError, match="espeak"):
        sing([SungNote("la", 60, 0.0, 0.5)], "piper-joe", sample_rate=RATE)
    with pytest.raises(UnisonoError, match="overlap"):
        sing([SungNote("la", 60, 0.0, 0.5), SungNote("la", 62, 0.4, 0.8)], "espeak-en-us-f1",
             sample_rate=RATE)

"""The word channel of retrieval: quote extraction, the Indel similarity against rapidfuzz's own
closed form, its zero rows, and that it lifts the right spoken clip above its look-alikes."""

import numpy as np
import pytest

from unisono.errors import UnisonoError
from unisono.models.words import (
    quoted_words,
    retrieval_similarity,
    transcribe_clips,
    word_similarity,
)

pytest.importorskip("rapidfuzz")


def test_quoted_words_takes_only_the_quoted_text() -> None:
    assert quoted_words('A man says: "Peter and Molly touched some plans."') == (
        "Peter and Molly touched some plans.")
    assert quoted_words('Singing by a woman in Bb, lyrics "the"') == "the"
    assert quoted_words("\u201cHello there\u201d, whispered by a woman") == "Hello there"
    assert quoted_words('"one" then "two"') == "one two"
    assert quoted_words("A dog barks twice over rain") == ""


def test_word_similarity_is_the_indel_ratio_of_normalised_texts() -> None:
    # normalised Indel similarity = 2 |longest common subsequence| / (|a| + |b|)
    from rapidfuzz.distance import LCSseq

    a, b = "ugly plans", "obly blends"
    expected = 2 * LCSseq.similarity(a, b) / (len(a) + len(b))
    got = word_similarity(["Ugly, plans!"], ["obly blends", "UGLY PLANS", ""])
    assert got.shape == (1, 3)
    assert got[0, 0] == pytest.approx(expected)
    assert got[0, 1] == pytest.approx(1.0)  # case and punctuation do not count
    assert got[0, 2] == 0.0  # an empty transcript matches nothing
    assert np.all(word_similarity(["", "x"], ["", ""]) == 0.0)
    assert np.all(word_similarity([""], ["some words"]) == 0.0)  # nothing quoted: no word term


def test_word_term_lifts_the_spoken_clip_and_leaves_unquoted_queries_alone() -> None:
    captions = ['A man says: "the milk was bland"', 'A man says: "peter touched the plans"',
                "A dog barks"]
    transcripts = ["peter touched a plan", "the milk was planned", ""]
    # the embedder alone cannot tell the two sentences apart (equal cosines)
    text = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    audio = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    similarity = retrieval_similarity(text, audio, captions, transcripts, weight=0.5)
    assert similarity.argmax(axis=1).tolist() == [1, 0, 2]
    np.testing.assert_allclose(similarity[2], (text @ audio.T)[2])  # quotes nothing
    np.testing.assert_allclose(retrieval_similarity(text, audio, captions, transcripts, weight=0.0),
                               text @ audio.T)


def test_mismatched_counts_are_clear_errors() -> None:
    with pytest.raises(UnisonoError, match="transcript"):
        retrieval_similarity(np.eye(2), np.eye(2), ["a", "b"], ["only one"])
    with pytest.raises(UnisonoError, match="caption"):
        retrieval_similarity(np.eye(2), np.eye(2), ["a"], ["x", "y"])


def test_transcribe_clips_uses_the_given_transcriber() -> None:
    clips = [np.zeros(160, dtype=np.float32), np.ones(320, dtype=np.float32)]
    seen = transcribe_clips(clips, 16000, transcriber=lambda audio, rate: f"{audio.size}@{rate}")
    assert seen == ["160@16000", "320@16000"]

"""Sentence generator: vocabulary size, determinism, held-out sentences, TTS-friendly form."""

import re

import numpy as np
import pytest

from unisono.errors import UnisonoError
from unisono.world import text


def test_vocabulary_has_at_least_2000_distinct_words():
    assert len(text.VOCABULARY) >= 2000
    assert all(re.fullmatch(r"[a-z']+", word) for word in text.VOCABULARY)


def test_same_seed_gives_same_sentences_and_different_seeds_differ():
    first = [text.sentence(np.random.default_rng(7)) for _ in range(3)]
    again = [text.sentence(np.random.default_rng(7)) for _ in range(3)]
    assert first == again
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(2)
    assert [text.sentence(rng_a) for _ in range(20)] != [text.sentence(rng_b) for _ in range(20)]


def test_held_out_sentences_are_never_generated():
    assert len(text.HELD_OUT_SENTENCES) >= 100
    assert all(text.is_held_out(s) for s in text.HELD_OUT_SENTENCES)
    assert text.is_held_out(text.HELD_OUT_SENTENCES[0].upper().rstrip(".?!"))
    rng = np.random.default_rng(0)
    samples = [text.sentence(rng) for _ in range(5000)]
    assert not any(text.is_held_out(s) for s in samples)
    # Rejection sampling must not collapse the variety of what is generated.
    assert len({s for s in samples}) > 4900


def test_sentences_are_well_formed_and_in_vocabulary():
    rng = np.random.default_rng(3)
    for _ in range(1000):
        s = text.sentence(rng, min_words=6, max_words=10)
        assert 6 <= text.word_count(s) <= 10
        assert s[0].isupper() and s[-1] in ".?!"
        assert not re.search(r"\d", s)
        assert not re.search(r"\ba [aeiou]", s.lower().replace("a useful", "")), s
        assert set(text.words_of(s)) <= text.VOCABULARY, s


def test_generated_text_uses_most_of_the_vocabulary():
    rng = np.random.default_rng(5)
    used = {w for _ in range(5000) for w in text.words_of(text.sentence(rng))}
    assert len(used) >= 1500


def test_bad_word_range_is_an_error():
    with pytest.raises(UnisonoError, match="min_words"):
        text.sentence(np.random.default_rng(0), min_words=9, max_words=4)
    with pytest.raises(UnisonoError, match="widen"):
        text.sentence(np.random.default_rng(0), min_words=40, max_words=50)

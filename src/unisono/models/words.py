"""The word channel of text-to-audio retrieval: the words a caption quotes against what a clip says.

The contrastive embedder hears kind, voice, gender, pitch and length, but not words, so two
captions such as `A man says: "Peter touched the plans."` and `A man says: "The milk was bland."`
are the same query to it (docs/evaluation.md works out that ceiling). Retrieval therefore adds
a lexical term, as speech-aware retrieval systems do:

    similarity(caption, clip) = cosine(text embedding, audio embedding)
                                + weight * word_similarity(quoted words, transcript)

Each clip is transcribed once by Whisper-tiny (`unisono.world.speech.asr.transcribe`, offline);
the word similarity is the normalised Indel similarity (rapidfuzz's `fuzz.ratio` / 100, in
[0, 1]) of the two texts after `normalize_text`. It is character based, so a transcript with
misheard words ("obly blends" for "ugly plans") still scores well. A caption that quotes nothing
(most sound-effect and music captions, AudioCaps-style captions) gets no word term: its
similarities are the embedder's alone. `WORD_WEIGHT` was chosen on the world validation split
(`python scripts/measure_refmodels.py --words --tune-words ...`, docs/evaluation.md).

Shapes: Q captions (queries), N clips.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from unisono.errors import UnisonoError

WORD_WEIGHT = 0.2  # chosen on the world validation split (module docstring)
_QUOTED = re.compile(r"[\"\u201c\u201d]([^\"\u201c\u201d]+)[\"\u201c\u201d]")

Transcriber = Callable[[np.ndarray, int], str]


def quoted_words(caption: str) -> str:
    """The text between double quotes in a caption ("" when it quotes nothing), quotes joined."""
    return " ".join(part.strip() for part in _QUOTED.findall(caption) if part.strip())


def word_similarity(quotes: Sequence[str], transcripts: Sequence[str]) -> np.ndarray:
    """(Q, N) normalised Indel similarity in [0, 1] of quoted words and transcripts.

    Both sides are normalised (lower case, numerals as words, no punctuation). A row whose quote
    is empty is all zeros; an empty transcript scores 0 against every quote.
    """
    from rapidfuzz import fuzz, process

    from unisono.world.speech.asr import normalize_text

    normal_quotes = [normalize_text(q) for q in quotes]
    normal_transcripts = [normalize_text(t) for t in transcripts]
    similarity = np.zeros((len(normal_quotes), len(normal_transcripts)), dtype=np.float64)
    rows = [i for i, q in enumerate(normal_quotes) if q]  # (the ratio of "" with "" is 100)
    if rows and normal_transcripts:  # a non-empty quote against "" scores 0
        similarity[rows] = process.cdist([normal_quotes[i] for i in rows], normal_transcripts,
                                         scorer=fuzz.ratio, dtype=np.float64) / 100.0
    return similarity


def transcribe_clips(audio: Sequence[np.ndarray], sample_rate: int, *,
                     transcriber: Transcriber | None = None) -> list[str]:
    """Whisper-tiny transcript of every clip (`transcriber(audio, rate)` replaces Whisper)."""
    if transcriber is None:
        from unisono.metrics.speech import _whisper_missing
        from unisono.world.speech.asr import transcribe

        missing = _whisper_missing()
        if missing is not None:
            raise UnisonoError(f"the word channel of retrieval needs Whisper-tiny: {missing}")
        transcriber = transcribe
    return [transcriber(np.asarray(clip, dtype=np.float32), sample_rate) for clip in audio]


def retrieval_similarity(text_embeddings: np.ndarray, audio_embeddings: np.ndarray,
                         captions: Sequence[str], transcripts: Sequence[str], *,
                         weight: float = WORD_WEIGHT) -> np.ndarray:
    """(Q, N) embedder cosine plus `weight` times the word similarity (module docstring)."""
    text_embeddings = np.asarray(text_embeddings, dtype=np.float64)
    audio_embeddings = np.asarray(audio_embeddings, dtype=np.float64)
    if len(captions) != text_embeddings.shape[0]:
        raise UnisonoError(f"{len(captions)} captions for {text_embeddings.shape[0]} text "
                           "embeddings: give one caption per embedding")
    if len(transcripts) != audio_embeddings.shape[0]:
        raise UnisonoError(f"{len(transcripts)} transcripts for {audio_embeddings.shape[0]} "
                           "clips: give one transcript per clip ('' when it says nothing)")
    words = word_similarity([quoted_words(c) for c in captions], transcripts)
    return text_embeddings @ audio_embeddings.T + weight * words

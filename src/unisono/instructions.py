"""Inference-side helpers of the API: reading audio inputs, routing an edit instruction to its task,
and building speech instructions.

Shapes: S samples, C latent channels, T latent frames.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from unisono.audio import load_audio, to_mono, validate_audio
from unisono.errors import UnisonoError

AudioInput = str | Path | np.ndarray | torch.Tensor

DEFAULT_INSTRUCTIONS = {
    "se": "Remove the background noise and the echo from this speech.",
    "sr": "Restore the high frequencies of this recording.",
}


@dataclass
class SourceCondition:
    """A source latent (C, T) and the task tag its frames carry (1 transform, 2 reference)."""

    latent: torch.Tensor
    tag: int


def read_audio_input(audio: AudioInput, sample_rate: int | None) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate from a path, a numpy array or a tensor."""
    if isinstance(audio, (str, Path)):
        samples, rate = load_audio(audio)
        return to_mono(samples), rate
    if sample_rate is None:
        raise UnisonoError("audio given as an array needs its sample_rate (e.g. sample_rate=16000).")
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 2 and 1 in samples.shape:
        samples = samples.reshape(-1)
    samples = to_mono(samples)
    validate_audio(samples, sample_rate, name="input audio")
    return samples, int(sample_rate)


# Keyword patterns per edit task, tried in order. Speech edits are read before the templates
# ("Remove the voice" is a speech edit whatever template fits); the sound edits are the fallback
# for free phrasings that match none of the tasks' own instruction templates.
_SPEECH_EDIT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("speech_rewrite", r"\b(change|rewrite) (what|the words|the speech)|\bsay(s)? instead\b|\binstead of saying\b"),
    ("speech_delete", r"\b(remove|delete|cut|erase|mute) (the |all )?(speech|voice|talking|speaker|spoken words|words)\b"),
    ("speech_insert", r"\b(add|insert) (a |some )?(voice|speech|speaker|man|woman|person)\b.*\b(say|saying|says)\b"),
)
_SOUND_EDIT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("edit_replace", r"\b(replace|swap|substitute|exchange)\b"),
    ("edit_extract", r"\b(extract|isolate|keep only|separate|pull out)\b|\bonly the\b|\beverything (except|but)\b"),
    ("edit_restyle", r"\b(play (this|it) on|restyle|as if played|turn (this|it) into|perform (this|it) on|switch the instrument|change the instrument)\b"),
    ("edit_remove", r"\b(remove|delete|take out|get rid of|erase|eliminate|cut out|mute)\b"),
    ("edit_add", r"\b(add|insert|put in|include|overlay|mix in)\b"),
)
EDIT_TASKS = tuple(task for task, _ in (*_SPEECH_EDIT_PATTERNS, *_SOUND_EDIT_PATTERNS))

EDIT_EXAMPLES = (
    "Add a dog barking at 2 s",
    "Remove the siren",
    "Replace the bell with a whistle",
    "Extract the piano",
    "Play this on a violin",
    "Remove the speech",
)


def _normalised(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(" .!")


@functools.cache
def _template_patterns() -> tuple[tuple[int, str, re.Pattern[str]], ...]:
    """(literal characters, task, full-match pattern) for every template of every edit task,
    most specific first; a {field} matches any non-empty text."""
    from unisono.tasks import get_task

    patterns = []
    for task in EDIT_TASKS:
        for template in get_task(task).templates:
            pieces = re.split(r"\{[a-z_]+\}", _normalised(template))
            literal = sum(len(piece.replace(" ", "")) for piece in pieces)
            regex = "(.+?)".join(re.escape(piece) for piece in pieces)
            patterns.append((literal, task, re.compile(regex)))
    return tuple(sorted(patterns, key=lambda item: -item[0]))


def edit_task_for(instruction: str) -> str:
    """The edit task an instruction asks for; a clear error when it names none.

    Speech edits are read by their keywords first ("Remove the voice"); then an instruction in
    one of the tasks' own training phrasings goes to that task (the most specific template wins:
    "Remove {old} and add {new}" is a replacement, not a removal); anything else is read by
    keywords ("Get rid of the hum", "Isolate the drums").
    """
    text = _normalised(instruction)
    for task, pattern in _SPEECH_EDIT_PATTERNS:
        if re.search(pattern, text):
            return task
    for _, task, pattern in _template_patterns():
        if pattern.fullmatch(text):
            return task
    for task, pattern in _SOUND_EDIT_PATTERNS:
        if re.search(pattern, text):
            return task
    raise UnisonoError(
        f"cannot tell which edit {instruction!r} asks for; say add / remove / replace / extract / "
        f"play this on ..., e.g. {'; '.join(repr(e) for e in EDIT_EXAMPLES)}."
    )


_SPEEDS = ("slow", "normal", "fast")


def tts_instruction(
    text: str, *, gender: str | None = None, speed: str | None = None, clone: bool = False,
    reference_text: str | None = None,
) -> str:
    """The instruction of a speech request, in the first template of the task it goes to (the
    speech tasks train with these exact phrasings, among others).

    Args:
        text: the words to speak.
        gender: "female" / "male" / None.
        speed: "slow" / "normal" / "fast" / None.
        clone: zero-shot cloning: the instruction carries the reference's transcript followed by
            the new words (UNISON, F5-TTS).
        reference_text: the reference recording's transcript (cloning).
    """
    from unisono.tasks.speech import (
        CLONE_TEMPLATES,
        STYLED_TEMPLATES,
        TTS_TEMPLATES,
        fill_instruction,
        quoted_text,
        voice_words,
    )

    words = quoted_text(text)
    if not words:
        raise UnisonoError("empty text: give the words to speak.")
    if gender not in (None, "female", "male"):
        raise UnisonoError(f"gender {gender!r}: use female or male.")
    if speed not in (None, *_SPEEDS):
        raise UnisonoError(f"speed {speed!r}: use one of {', '.join(_SPEEDS)}.")
    if clone:
        full = f"{quoted_text(reference_text)} {words}".strip()
        return fill_instruction(CLONE_TEMPLATES[0], text=full)
    voice, _ = voice_words(gender)
    if speed in (None, "normal"):
        return fill_instruction(TTS_TEMPLATES[0], voice=voice, text=words)
    style = f"a {speed} {voice.removeprefix('a ')}"
    return fill_instruction(STYLED_TEMPLATES[0], style=style, text=words)


@dataclass
class Score:
    """A sung phrase: notes with one lyric syllable each ("twin-", "kle"), an optional key."""

    notes: list  # unisono.world.singing.SungNote
    key: str | None = None


def read_score(score: str | Path | dict) -> Score:
    """A score from a JSON file or dict: {"key": "D", "notes": [{"pitch": 62, "onset": 0.0,
    "offset": 0.5, "lyric": "twin-"}, ...]}; non-final syllables of a word end in "-"."""
    import json

    from unisono.world.singing import SungNote

    if not isinstance(score, dict):
        path = Path(score)
        if not path.is_file():
            raise UnisonoError(f"score {path} not found; give a JSON file with a 'notes' list.")
        try:
            score = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise UnisonoError(f"score {path} is not valid JSON: {err}") from err
    raw = score.get("notes") if isinstance(score, dict) else None
    if not raw:
        raise UnisonoError("the score has no notes: give 'notes': [{pitch, onset, offset, lyric}].")
    notes = []
    for index, note in enumerate(raw):
        try:
            notes.append(SungNote(str(note["lyric"]), int(note["pitch"]), float(note["onset"]),
                                  float(note["offset"])))
        except (KeyError, TypeError, ValueError) as err:
            raise UnisonoError(
                f"score note {index} needs pitch, onset, offset and lyric: {note!r} ({err})."
            ) from err
    return Score(sorted(notes, key=lambda n: n.onset), score.get("key"))


def score_phones(score: Score, *, gender: str | None) -> tuple[list[str], list[float], list[int]]:
    """Phones tiling the phrase from 0 s, their seconds and the MIDI pitch under each.

    The phone timing inside each note follows the world's singer (espeak-ng syllables; consonants
    keep their length, the vowel fills the note), the timing the svs task trains on.
    """
    from unisono.data.manifest import Note
    from unisono.tasks.singing import phone_pitches
    from unisono.world.singing import sing
    from unisono.world.speech import voice_ids

    voices = voice_ids(engine="espeak", gender=gender) if gender else voice_ids(engine="espeak")
    utterance = sing(score.notes, voices[0], sample_rate=16000)
    phones = [p.symbol for p in utterance.phonemes]
    seconds = [p.end - p.start for p in utterance.phonemes]
    notes = [Note(n.pitch, n.onset, n.offset) for n in score.notes]
    return phones, seconds, phone_pitches(seconds, notes)

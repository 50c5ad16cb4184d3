"""Singing voice synthesis (svs): notes and lyrics as time-aligned content (UniFlow-Audio SVS).

The target is a whole cached singing clip. Its content is the manifest's phones, tiled over the
clip (`unisono.tasks.speech.tile_phones`), each with the MIDI pitch of the note sounding during it
(the note overlapping the phone longest; 0 where no note sounds, e.g. pauses). The instruction
describes only the voice and, when the manifest gives it, the key ("A female voice sings in D"):
what is sung and on which notes comes from the content. Rows need `kind: "singing"`, `phonemes`
and `notes`; others are skipped, and a pool with none fails with a clear error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unisono.data.clips import require_clips, role_clips
from unisono.data.manifest import ManifestEntry, Note
from unisono.errors import UnisonoError
from unisono.tasks.base import ClipPool, InferenceRecipe, Task, TaskExample, register
from unisono.tasks.speech import ATTEMPTS, clip_seconds, fill_instruction, tile_phones, voice_words

SVS_TEMPLATES = (
    "{voice} sings{in_key}.",
    "Singing by {voice}{in_key}.",
    "Sing the given notes and lyrics with {voice}{in_key}.",
    "Generate {voice} singing the melody{in_key}.",
    "{voice} singing the lyrics on the given notes{in_key}.",
    "Synthesize singing: {voice}{in_key}.",
    "Perform the score with {voice}{in_key}.",
    "A song sung by {voice}{in_key}.",
    "Produce a sung phrase by {voice}{in_key}, following the notes.",
    "Turn the notes and lyrics into singing by {voice}{in_key}.",
    "Render this melody as {voice} singing{in_key}.",
)
_ACCIDENTALS = {"#": " sharp", "b": " flat"}


def key_words(key: str | None, mode: str | None = None) -> str:
    """" in D", " in E flat minor", or "" without a key (a phrase to append to a sentence)."""
    key = (key or "").strip()
    if not key:
        return ""
    name = key[:1].upper() + "".join(_ACCIDENTALS.get(mark, mark) for mark in key[1:])
    mode = (mode or "").strip().lower()
    return f" in {name}" + (f" {mode}" if mode in ("major", "minor") else "")


def phone_pitches(phone_seconds: Sequence[float], notes: Sequence[Note]) -> list[int]:
    """The MIDI pitch of the note overlapping each phone longest (phones tile from 0); 0 where no
    note overlaps a phone."""
    ends = np.cumsum(np.asarray(phone_seconds, dtype=np.float64))
    starts = ends - np.asarray(phone_seconds, dtype=np.float64)
    pitches = []
    for start, end in zip(starts, ends, strict=True):
        best, pitch = 0.0, 0
        for note in notes:
            overlap = min(end, note.offset) - max(start, note.onset)
            if overlap > best + 1e-9:
                best, pitch = overlap, int(note.pitch)
        pitches.append(pitch)
    return pitches


def _is_score(entry: ManifestEntry) -> bool:
    return entry.kind == "singing" and bool(entry.phonemes) and bool(entry.notes)


def _build_svs(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME["svs"]
    candidates = role_clips(pool, "singing.score", _is_score).between(0.0, pool.max_seconds)
    require_clips(candidates, task=task.name, what=f"singing clips (kind \"singing\") with "
                  f"`phonemes` and `notes` up to {pool.max_seconds:g} s")
    for _ in range(ATTEMPTS):
        entry = candidates[int(rng.integers(len(candidates)))]
        seconds = clip_seconds(pool, entry)
        if seconds <= pool.max_seconds + 1e-6:
            break
    else:
        raise UnisonoError(f"task {task.name}: the singing clips drawn were longer than "
                           f"{pool.max_seconds:g} s; set `duration` in the manifest rows.")
    phones, phone_seconds = tile_phones(entry.phonemes, seconds)
    template = task.templates[int(rng.integers(len(task.templates)))]
    instruction = fill_instruction(template, voice=voice_words(entry.gender)[0],
                                   in_key=key_words(entry.key, entry.mode))
    return TaskExample(task=task.name, instruction=instruction, duration=seconds,
                       target_clip=entry.id, phones=phones, phone_seconds=phone_seconds,
                       phone_pitch=phone_pitches(phone_seconds, entry.notes))


TASKS_BY_NAME = {
    "svs": register(Task(
        name="svs", family="generation",
        description="singing voice synthesis from notes and lyrics (time-aligned phones)",
        kinds=("singing",), templates=SVS_TEMPLATES, build=_build_svs,
        recipe=InferenceRecipe(steps=32, cfg=2.5), time_aligned=True, uses_latent_cache=True,
        uses_phones=True,
    )),
}

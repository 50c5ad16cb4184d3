"""Test examples of every task, built from a manifest, and the facts the world knows about them.

Example `i` of task `t` is drawn with `numpy.random.default_rng([seed, crc32(t), i])`, so a
given (manifest, seed) always gives the same examples and `--n 20` extends `--n 10`. Most
tasks use their training builder (`Task.build`: the same instructions, mixtures and degradations
as in training); the stem functions the builders call first (`edit_mixture`, `timed_mixture`,
`t2as_mixture`, `speech_scene`, `restyle_pair`) are rerun with the same generator to recover what
the example contains: which event was added or removed, which instrument plays, where each event
starts. Text-to-audio, text-to-music and captioning take distinct clips instead (no clip twice),
with one of the clip's captions as the prompt, as test sets of those tasks are used.

Shapes: S samples (mono float32 at the pool's rate, the model's).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field

import numpy as np

from unisono.data.clips import load_clip
from unisono.data.manifest import ManifestEntry, Note
from unisono.errors import UnisonoError
from unisono.tasks import TASKS, ClipPool, TaskExample, get_task

DRUM_LABEL = "drums"  # the tagger's instrument label of every drum kit
COARSE_LABELS = ("speech", "singing", "music")


@dataclass
class EvalExample:
    """One test example and what a correct output must satisfy.

    Attributes:
        index: position in the task's test list.
        task: the task name.
        instruction: the instruction (prompt, edit command, question) given to the model.
        target: the reference output (S,); for `question` the clip asked about.
        sample_rate: rate of `target` and `source`.
        source: the input of a transformation task (S,), else None.
        clip_id: the manifest clip the target is (cached-target tasks), else None.
        reference_seconds: voice-prompt prefix of the target given to cloning tasks.
        phones: time-aligned phone symbols (aligned TTS, singing).
        phone_seconds: their durations.
        phone_pitch: their MIDI pitches (singing; 0 for none).
        caption: the text a CLAP score compares the output with.
        captions: reference captions (captioning).
        answer: the expected answer (questions).
        transcript: the words the output must say.
        gender: the voice's gender ("female" / "male").
        label: the one event class of a single-event clip (class accuracy).
        ignore: labels left out when ranking event classes (background beds).
        present: event classes that must be heard in the output.
        absent: event classes that must not be.
        instrument: the tagger's instrument label of the output.
        key: the music's key ("Bb"); mode: "major", "minor", ...
        notes: the notes the output plays.
        spans: timed events: (classes, onset s, offset s).
    """

    index: int
    task: str
    instruction: str
    target: np.ndarray
    sample_rate: int
    source: np.ndarray | None = None
    clip_id: str | None = None
    reference_seconds: float = 0.0
    phones: list[str] | None = None
    phone_seconds: list[float] | None = None
    phone_pitch: list[int] | None = None
    caption: str | None = None
    captions: list[str] = field(default_factory=list)
    answer: str | None = None
    transcript: str | None = None
    gender: str | None = None
    label: str | None = None
    ignore: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    instrument: str | None = None
    key: str | None = None
    mode: str | None = None
    notes: list[Note] = field(default_factory=list)
    spans: list[tuple[list[str], float, float]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds of the target."""
        return self.target.shape[0] / self.sample_rate

    @property
    def prefix_samples(self) -> int:
        """Samples of the target given as the voice prompt (0 unless cloning)."""
        return int(round(self.reference_seconds * self.sample_rate))

    def fingerprint(self) -> str:
        """A hash of everything the model is given and compared with (resume key)."""
        digest = hashlib.sha1(json.dumps(
            [self.task, self.instruction, self.clip_id, self.sample_rate, self.reference_seconds,
             self.phones, self.phone_seconds, self.phone_pitch], ensure_ascii=False).encode())
        for audio in (self.target, self.source):
            if audio is not None:
                digest.update(np.ascontiguousarray(audio, dtype=np.float32).tobytes())
        return digest.hexdigest()[:16]


def example_rng(seed: int, task: str, index: int) -> np.random.Generator:
    """The generator of example `index` of `task` (independent streams per task and index)."""
    return np.random.default_rng([seed, zlib.crc32(task.encode()), index])


def event_classes(entry: ManifestEntry) -> list[str]:
    """The sound-event classes of a clip: its events' classes, else its one label."""
    classes = sorted({event.event_class for event in entry.events})
    if classes:
        return classes
    return list(entry.labels[:1]) if len(entry.labels) == 1 else []


def instrument_label(name: str | None) -> str | None:
    """The tagger's instrument label of a world instrument name (every drum kit is "drums")."""
    from unisono.world import music

    if not name:
        return None
    if name in music.DRUM_KITS or (name not in music.INSTRUMENTS and "drum" in name.lower()):
        return DRUM_LABEL
    return name


def _entry(pool: ClipPool, clip_id: str) -> ManifestEntry:
    key = ("evaluation.by_id", len(pool.entries))
    if key not in pool.memo:
        pool.memo[key] = {entry.id: entry for entry in pool.entries}
    return pool.memo[key][clip_id]


def _clip(pool: ClipPool, entry: ManifestEntry) -> np.ndarray:
    return np.array(load_clip(pool, entry), dtype=np.float32)


def _from_task_example(index: int, built: TaskExample, pool: ClipPool) -> EvalExample:
    if built.target is not None:
        target = np.asarray(built.target, dtype=np.float32)
    elif built.target_clip is not None:
        target = _clip(pool, _entry(pool, built.target_clip))
    else:
        raise UnisonoError(f"task {built.task} built an example without a target.")
    return EvalExample(
        index=index, task=built.task, instruction=built.instruction, target=target,
        sample_rate=pool.sample_rate, clip_id=built.target_clip,
        source=None if built.source is None else np.asarray(built.source, dtype=np.float32),
        reference_seconds=built.reference_seconds, phones=built.phones,
        phone_seconds=built.phone_seconds, phone_pitch=built.phone_pitch, answer=built.answer,
        caption=built.instruction,
    )


def _add_clip_facts(example: EvalExample, entry: ManifestEntry) -> None:
    example.transcript = entry.transcript
    example.gender = entry.gender if entry.gender in ("female", "male") else None
    example.key, example.mode = entry.key, entry.mode
    example.instrument = instrument_label(entry.instrument)
    example.notes = [] if example.instrument == DRUM_LABEL else list(entry.notes)
    example.present = event_classes(entry)
    if len(example.present) == 1:
        example.label = example.present[0]
        example.ignore = sorted(set(entry.labels) - {example.label} | set(COARSE_LABELS))


def _add_stem_facts(example: EvalExample, pool: ClipPool, rng: np.random.Generator) -> None:
    """Rerun the stem function the task's builder starts with, to learn what the example holds."""
    from unisono.tasks import editing, speech

    task = example.task
    if task in ("edit_add", "edit_remove", "edit_replace", "edit_extract"):
        _, events = editing.edit_mixture(task, pool, rng, replacement=task == "edit_replace")
        first = event_classes(events[0].entry)
        if task == "edit_remove":
            example.absent = first
        elif task == "edit_replace":
            example.absent, example.present = first, event_classes(events[1].entry)
        else:
            example.present = first
    elif task == "edit_restyle":
        entry, _, target_name, _, _ = editing.restyle_pair(task, pool, rng)
        example.instrument = instrument_label(target_name)
        example.key, example.mode = entry.key, entry.mode
    elif task == "timed":
        _, events, spans = editing.timed_mixture(task, pool, rng)
        example.spans = [(event_classes(drawn.entry), onset, offset)
                         for drawn, (onset, offset) in zip(events, spans, strict=True)]
    elif task == "t2as":
        _, entry, event_name = speech.t2as_mixture(task, pool, rng)
        _add_clip_facts(example, entry)
        example.present, example.label = [event_name], None
    elif task in ("speech_insert", "speech_delete", "speech_rewrite"):
        _, utterances = speech.speech_scene(task, pool, rng, rewrite=task == "speech_rewrite")
        spoken = utterances[-1] if task == "speech_rewrite" else utterances[0]
        example.transcript = spoken.transcript
        example.gender = spoken.gender if spoken.gender in ("female", "male") else None
    elif task == "tts_styled":
        rate, _, _ = speech.speaking_style(rng)
        entry, _ = speech.draw_utterance(task, pool, rng, longest=pool.max_seconds * min(rate, 1))
        example.transcript = entry.transcript
        example.gender = entry.gender if entry.gender in ("female", "male") else None


def _distinct_clips(task: str, pool: ClipPool, n: int, seed: int) -> list[EvalExample]:
    """t2a / t2m / caption: n distinct captioned clips in a seeded order, one caption each."""
    kinds = get_task(task).kinds
    candidates = sorted(pool.of_kinds(kinds), key=lambda entry: entry.id)
    if not candidates:
        raise UnisonoError(f"task {task} found no captioned clips of kind {'/'.join(kinds)} up to "
                           f"{pool.max_seconds:g} s in the manifest; give a manifest with some.")
    order = np.random.default_rng([seed, zlib.crc32(task.encode())]).permutation(len(candidates))
    examples = []
    for index, position in enumerate(order[:n]):
        entry = candidates[int(position)]
        rng = example_rng(seed, task, index)
        caption = entry.captions[int(rng.integers(len(entry.captions)))]
        example = EvalExample(index=index, task=task, instruction=caption,
                              target=_clip(pool, entry), sample_rate=pool.sample_rate,
                              clip_id=entry.id, caption=caption, captions=list(entry.captions))
        _add_clip_facts(example, entry)
        examples.append(example)
    return examples


def build_examples(task: str, pool: ClipPool, *, n: int, seed: int = 0) -> list[EvalExample]:
    """The first `n` test examples of `task` drawn from `pool` (deterministic in `seed`).

    Raises:
        UnisonoError: unknown task, n < 1, or the pool lacks the clips the task needs (the
            message says which).
    """
    if task not in TASKS:
        raise UnisonoError(f"unknown task {task!r}; choose from: {', '.join(TASKS)}.")
    if n < 1:
        raise UnisonoError(f"--n must be at least 1; got {n}.")
    if task in ("t2a", "t2m", "caption"):
        return _distinct_clips(task, pool, n, seed)
    builder = get_task(task).build
    examples = []
    for index in range(n):
        example = _from_task_example(index, builder(pool, example_rng(seed, task, index)), pool)
        if example.clip_id is not None:
            _add_clip_facts(example, _entry(pool, example.clip_id))
        _add_stem_facts(example, pool, example_rng(seed, task, index))
        examples.append(example)
    return examples

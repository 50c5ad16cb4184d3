"""The task registry: what each task trains on and how it is sampled.

A task is one entry in `TASKS` (explicit registry, STYLE.md): which clips it draws from, how it turns
them into a training example (target audio, optional source audio, task tag, instruction, loss
mask), at least ten instruction templates, and its inference recipe (solver steps, guidance).
Builders work on waveforms (numpy, the codec's sample rate) and take an explicit
`numpy.random.Generator`, so an example is reproducible from (seed, index).

Shapes: S samples (mono float32).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError

# Task tag m per latent frame (UNISON 3.4).
TAG_GENERATE = 0
TAG_TRANSFORM = 1
TAG_REFERENCE = 2


@dataclass(frozen=True)
class InferenceRecipe:
    """Default sampling settings of a task (UniFlow-Audio: no guidance for se / sr)."""

    steps: int = 25
    cfg: float = 4.0
    solver: str = "euler"
    sway: float = -1.0
    # Flow times (1 = noise) at which guidance applies; one conditional pass elsewhere.
    cfg_interval: tuple[float, float] = (0.0, 1.0)

    def replace(self, overrides: Mapping[str, object], *, where: str) -> InferenceRecipe:
        """This recipe with some fields replaced (a model's own sampling defaults), checked.

        Args:
            overrides: field name -> value, e.g. {"cfg": 7.0} or {"cfg_interval": [0.1, 0.9]}.
            where: names the source of the overrides in error messages (a file, an option).

        Raises:
            UnisonoError: an unknown field or a value out of range.
        """
        from unisono.flow import SOLVERS

        fields = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise UnisonoError(f"{where}: unknown recipe field(s) {', '.join(unknown)}; "
                               f"a recipe has {', '.join(sorted(fields))}.")
        values = dict(overrides)
        try:
            if "steps" in values:
                values["steps"] = _whole(values["steps"])
                if values["steps"] < 1:
                    raise ValueError("steps must be at least 1")
            for name in ("cfg", "sway"):
                if name in values:
                    values[name] = float(values[name])  # type: ignore[arg-type]
            if values.get("cfg", 1.0) < 0:
                raise ValueError("cfg must be >= 0 (1 = no guidance)")
            if "solver" in values and values["solver"] not in SOLVERS:
                raise ValueError(f"solver must be one of {', '.join(sorted(SOLVERS))}")
            if "cfg_interval" in values:
                low, high = (float(v) for v in values["cfg_interval"])  # type: ignore[union-attr]
                if not 0.0 <= low < high <= 1.0:
                    raise ValueError("cfg_interval must be [low, high] with 0 <= low < high <= 1")
                values["cfg_interval"] = (low, high)
        except (TypeError, ValueError) as error:
            raise UnisonoError(f"{where}: bad recipe value ({error}).") from None
        return dataclasses.replace(self, **values)


def _whole(value: object) -> int:
    """An integer from an int or an integral float / string ("25", 25.0); else ValueError."""
    number = float(value)  # type: ignore[arg-type]
    if not number.is_integer():
        raise ValueError(f"steps must be a whole number, not {value!r}")
    return int(number)



@dataclass
class TaskExample:
    """One training example before encoding.

    Attributes:
        task: the task name.
        instruction: the instruction text.
        target: target waveform (S,), or None when `target_clip` names a cached latent.
        target_clip: id of a whole clip whose cached latent is the target (latent cache path).
        source: source waveform (S,) for transformation tasks, else None.
        source_tag: task tag value on source frames (TAG_TRANSFORM / TAG_REFERENCE).
        reference_seconds: leading seconds of the target that are a given reference prefix
            (excluded from the loss, tag TAG_REFERENCE); 0 for none.
        duration: target duration in seconds (the duration predictor's label).
        phones: time-aligned content of TA tasks: phone symbols in order (aligned TTS, singing).
        phone_seconds: each phone's duration in seconds (they tile the target from its start).
        phone_pitch: each phone's MIDI pitch (singing); None for speech.
        answer: the text an understanding task predicts (a caption or an answer); its audio is
            the target, given clean.
    """

    task: str
    instruction: str
    duration: float
    target: np.ndarray | None = None
    target_clip: str | None = None
    source: np.ndarray | None = None
    source_tag: int = TAG_TRANSFORM
    reference_seconds: float = 0.0
    phones: list[str] | None = None
    phone_seconds: list[float] | None = None
    phone_pitch: list[int] | None = None
    answer: str | None = None


Builder = Callable[["ClipPool", np.random.Generator], TaskExample]


@dataclass
class ClipPool:
    """Clips a task can draw from, by kind, with their manifest entries.

    Attributes:
        entries: the manifest entries.
        sample_rate: the rate builders synthesise at (the codec's); 0 until a caller sets it.
        max_seconds: longest target.
        paths: clip id -> resolved audio file, for entries whose `path` is relative to their
            manifest (absolute paths need no entry); read by `unisono.data.clips.load_clip`.
        memo: clip lists by role that builders derive once (`unisono.data.clips.role_clips`),
            keyed by role, entry count and max_seconds.
        caption_choice: which of a clip's captions the caption task trains on: "any" (one at
            random per example) or "consensus" (always the one that agrees most with the
            others, `unisono.tasks.understanding.consensus_caption`).
    """

    entries: list[ManifestEntry]
    sample_rate: int
    max_seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    caption_choice: str = "any"
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def cacheable(self, kinds: Sequence[str]) -> list[ManifestEntry]:
        """Entries a cached-target task of these kinds may use, captioned or not (users' speech
        rows carry transcripts, not captions); rows without a kind count when they have a
        transcript."""
        return [
            entry
            for entry in self.entries
            if (entry.kind in kinds or (entry.kind is None and entry.transcript))
            and (entry.duration is None or entry.duration <= self.max_seconds + 1e-6)
        ]

    def of_kinds(self, kinds: Sequence[str]) -> list[ManifestEntry]:
        """Entries whose kind is one of `kinds`, usable (captioned, not longer than max)."""
        return [
            entry
            for entry in self.entries
            if (entry.kind in kinds) and entry.captions
            and (entry.duration is None or entry.duration <= self.max_seconds + 1e-6)
        ]


@dataclass(frozen=True)
class Task:
    """A registry entry.

    Attributes:
        name: registry key.
        family: "generation", "editing", "restoration" or "understanding" (curriculum stage).
        description: one line for `--help` and docs.
        kinds: manifest kinds the task draws its clips from.
        templates: instruction templates; "{caption}" and other fields are filled by the builder.
        build: the tuple builder.
        recipe: default inference settings.
        time_aligned: whether the task carries time-aligned content (UniFlow TA / NTA).
        uses_latent_cache: targets are whole cached clips (no waveform synthesis).
        uses_phones: examples carry phones (the model needs a content encoder).
    """

    name: str
    family: str
    description: str
    kinds: tuple[str, ...]
    templates: tuple[str, ...]
    build: Builder
    recipe: InferenceRecipe = field(default_factory=InferenceRecipe)
    time_aligned: bool = False
    uses_latent_cache: bool = False
    uses_phones: bool = False

    def __post_init__(self) -> None:
        if len(self.templates) < 10:
            raise UnisonoError(f"task {self.name} needs at least 10 instruction templates")


TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task to the registry (names are unique)."""
    if task.name in TASKS:
        raise UnisonoError(f"task {task.name!r} is registered twice")
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """A task by name, with an error that lists the known ones."""
    if name not in TASKS:
        raise UnisonoError(f"Unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}.")
    return TASKS[name]


SOURCE_PRIOR_FAMILIES = ("editing", "restoration")


def check_source_prior(tasks: Mapping[str, float], trained: Sequence[str], *, where: str) -> None:
    """Check a source prior (task -> noise scale, `unisono.flow.path.source_prior`): only
    transformation tasks, whose source is aligned frame for frame with the target, can start
    from it, only tasks that are trained, and the noise scale must be >= 0.

    Raises:
        UnisonoError: naming the offending task and what to do.
    """
    for name, scale in tasks.items():
        task = get_task(name)
        if task.family not in SOURCE_PRIOR_FAMILIES:
            allowed = sorted(n for n, t in TASKS.items() if t.family in SOURCE_PRIOR_FAMILIES)
            raise UnisonoError(f"{where}: {name!r} has no source aligned with its target, so it "
                               f"cannot start from one; a source prior fits {', '.join(allowed)}.")
        if name not in trained:
            raise UnisonoError(f"{where}: a source prior for {name!r}, which is not trained "
                               f"(trained: {', '.join(trained)}).")
        if not isinstance(scale, (int, float)) or not scale >= 0:
            raise UnisonoError(f"{where}: the source prior's noise scale for {name!r} must be a "
                               f"number >= 0, got {scale!r}.")


def fill_template(template: str, caption: str) -> str:
    """Put a caption into a template; mid-sentence captions lose their capital and full stop."""
    if template == "{caption}":
        return caption
    text = caption.strip().rstrip(".")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[:1].lower() + text[1:]
    return template.format(caption=text)

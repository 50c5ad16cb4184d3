"""Scene specs: the JSON-serialisable description of one world clip, and how to draw them at random.

A `SceneSpec` lists layers (events, speech, music, singing, a background); each layer carries the
seed its audio is rendered from, so a spec alone determines the audio. `make_scene(kind, ...)` draws a
spec for one of the world's kinds from a scene seed. Scene seeds are derived from (seed, index, split)
so that train, val and test never share one (`scene_seed`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unisono.config import config_from_dict, config_to_dict
from unisono.errors import UnisonoError

KINDS = ("sfx", "speech", "music", "singing", "scene")
SPLITS = ("train", "val", "test")
MAX_INDEX = 2**24
SINGING_KEYS = ("C", "D", "E", "F", "G", "A", "Bb", "Eb")


@dataclass
class EventLayer:
    """A sound event: a procedural class or a real recorded clip (`path` set)."""

    name: str
    onset: float
    duration: float
    level_db: float
    seed: int
    variant: int = 0
    count: int | None = None
    source: str = "procedural"  # "procedural" | "real"
    path: str | None = None


@dataclass
class SpeechLayer:
    voice: str
    text: str
    onset: float
    level_db: float
    speed: float = 1.0


@dataclass
class MusicLayer:
    music: dict[str, Any]  # unisono.world.music.MusicSpec.to_dict()
    onset: float
    level_db: float


@dataclass
class SingingLayer:
    voice: str
    notes: list[dict[str, Any]]  # unisono.world.singing.SungNote fields
    onset: float
    level_db: float
    key: str | None = None


@dataclass
class BackgroundLayer:
    name: str  # a backgrounds.BACKGROUNDS key or "babble"
    level_db: float
    seed: int


@dataclass
class SceneSpec:
    id: str
    kind: str
    split: str
    seed: int
    sample_rate: int
    duration: float  # minimum duration; the renderer extends it to fit speech that runs longer
    events: list[EventLayer] = field(default_factory=list)
    speech: list[SpeechLayer] = field(default_factory=list)
    music: list[MusicLayer] = field(default_factory=list)
    singing: list[SingingLayer] = field(default_factory=list)
    background: BackgroundLayer | None = None
    heldout: bool = False

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneSpec:
        return config_from_dict(cls, data)


def scene_seed(seed: int, index: int, split: str) -> int:
    """A scene's seed; its residue mod 3 is the split, so splits never share a seed."""
    if split not in SPLITS:
        raise UnisonoError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if not 0 <= index < MAX_INDEX:
        raise UnisonoError(f"scene index must be in [0, {MAX_INDEX}); got {index}")
    if seed < 0:
        raise UnisonoError(f"seed must be non-negative; got {seed}")
    return ((seed * MAX_INDEX + index) * 3) + SPLITS.index(split)


def split_of_seed(value: int) -> str:
    return SPLITS[value % 3]


def _draw_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


class SceneSampler:
    """Draws random scene specs. Holds the catalogues (classes, real clips, voices) it draws from."""

    def __init__(self, *, sample_rate: int = 16000, split: str = "train", heldout: bool = False,
                 real_clips: list | None = None) -> None:
        from unisono.world import backgrounds, real, sfx, speech

        if heldout and split != "test":
            raise UnisonoError("held-out material (--heldout) is only for the test split")
        self.sample_rate = sample_rate
        self.split = split
        self.heldout = heldout
        self.classes = sfx.EVENT_CLASSES
        self.backgrounds = sorted(backgrounds.BACKGROUNDS)
        clips = real.index_real_clips() if real_clips is None else real_clips
        self.real_clips = [c for c in clips if real.split_of_clip(c) == split]
        self.voices = sorted(speech.VOICES)

    # -- layers -----------------------------------------------------------------------------
    def event(self, rng: np.random.Generator, *, onset: float, max_duration: float) -> EventLayer:
        use_real = bool(self.real_clips) and rng.random() < 0.35
        level = float(rng.uniform(-30.0, -18.0))
        if use_real:
            clip = self.real_clips[int(rng.integers(len(self.real_clips)))]
            duration = min(float(clip.duration), max_duration)
            return EventLayer(name=clip.label, onset=onset, duration=round(duration, 3), level_db=level,
                              seed=_draw_seed(rng), source="real", path=clip.path)
        names = list(self.classes)
        event_class = self.classes[names[int(rng.integers(len(names)))]]
        low, high = event_class.duration_range
        duration = float(min(rng.uniform(low, high), max_duration))
        last = event_class.n_variants - 1
        variant = last if self.heldout else int(rng.integers(max(last, 1)))
        count = None
        if event_class.countable:
            count = int(rng.integers(event_class.count_range[0], event_class.count_range[1] + 1))
        return EventLayer(name=event_class.name, onset=onset, duration=round(duration, 3), level_db=level,
                          seed=_draw_seed(rng), variant=variant, count=count)

    def sentence(self, rng: np.random.Generator, *, max_words: int = 14) -> str:
        from unisono.world import text

        if self.heldout:
            return text.HELD_OUT_SENTENCES[int(rng.integers(len(text.HELD_OUT_SENTENCES)))]
        return text.sentence(rng, min_words=5, max_words=max_words)

    def speech(self, rng: np.random.Generator, *, onset: float, max_words: int = 14) -> SpeechLayer:
        speed = float(rng.choice([1.0, 1.0, 1.0, 0.85, 1.2]))
        return SpeechLayer(voice=self.voices[int(rng.integers(len(self.voices)))],
                           text=self.sentence(rng, max_words=max_words), onset=onset,
                           level_db=float(rng.uniform(-24.0, -18.0)), speed=speed)

    def music(self, rng: np.random.Generator, *, onset: float, duration: float, style: str | None = None) -> MusicLayer:
        from unisono.world import music

        style = style or str(rng.choice(["melody", "melody", "chords", "drums", "ensemble"]))
        spec = music.random_music(rng, duration=duration, style=style)
        return MusicLayer(music=spec.to_dict(), onset=onset, level_db=float(rng.uniform(-24.0, -18.0)))

    def background(self, rng: np.random.Generator, *, level: tuple[float, float]) -> BackgroundLayer:
        names = self.backgrounds + ["babble"]
        name = names[int(rng.integers(len(names)))]
        return BackgroundLayer(name=name, level_db=float(rng.uniform(*level)), seed=_draw_seed(rng))

    # -- kinds ------------------------------------------------------------------------------
    def make(self, kind: str, *, seed: int, index: int) -> SceneSpec:
        """Draw the spec of scene `index` of a render with base `seed`."""
        if kind not in KINDS:
            raise UnisonoError(f"unknown world kind {kind!r}; use any of {', '.join(KINDS)}")
        value = scene_seed(seed, index, self.split)
        rng = np.random.default_rng(value)
        spec = SceneSpec(id=f"{self.split}-{kind}-{seed}-{index:06d}", kind=kind, split=self.split,
                         seed=value, sample_rate=self.sample_rate, duration=0.0, heldout=self.heldout)
        getattr(self, f"_make_{kind}")(spec, rng)
        return spec

    def _make_sfx(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        spec.duration = float(rng.uniform(2.0, 6.0))
        n_events = int(rng.choice([1, 1, 1, 2, 2, 3]))
        onset = float(rng.uniform(0.0, 0.5))
        for _ in range(n_events):
            if onset > spec.duration - 0.3:
                break
            layer = self.event(rng, onset=round(onset, 3), max_duration=spec.duration - onset)
            spec.events.append(layer)
            onset = layer.onset + layer.duration * float(rng.uniform(0.3, 1.2)) + float(rng.uniform(0.1, 0.8))
        if rng.random() < 0.3:
            spec.background = self.background(rng, level=(-45.0, -35.0))

    def _make_speech(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        spec.speech.append(self.speech(rng, onset=round(float(rng.uniform(0.1, 0.3)), 3)))
        spec.duration = 1.0  # extended by the renderer to the utterance

    def _make_music(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        spec.duration = float(rng.uniform(4.0, 8.0))
        spec.music.append(self.music(rng, onset=0.0, duration=spec.duration))

    def _make_singing(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        from unisono.world import singing, speech

        key = str(rng.choice(SINGING_KEYS))
        notes = singing.random_song(rng, duration=float(rng.uniform(3.0, 6.0)), key=key)
        voices = speech.voice_ids(engine="espeak")  # the singing synthesizer drives espeak-ng
        voice = voices[int(rng.integers(len(voices)))]
        onset = 0.1
        spec.singing.append(SingingLayer(voice=voice, notes=[dataclasses.asdict(n) for n in notes],
                                         onset=onset, level_db=float(rng.uniform(-22.0, -18.0)), key=key))
        spec.duration = onset + max(n.offset for n in notes) + 0.2

    def _make_scene(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        spec.duration = float(rng.uniform(6.0, 10.0))
        spec.background = self.background(rng, level=(-40.0, -30.0))
        n_events = int(rng.integers(1, 4))
        onsets = np.sort(rng.uniform(0.0, spec.duration - 1.0, size=n_events))
        for onset in onsets:
            spec.events.append(self.event(rng, onset=round(float(onset), 3),
                                          max_duration=min(3.0, spec.duration - float(onset))))
        extra = rng.random()
        if extra < 0.35:
            spec.speech.append(self.speech(rng, onset=round(float(rng.uniform(0.2, 2.0)), 3), max_words=9))
        elif extra < 0.6:
            onset = round(float(rng.uniform(0.0, 2.0)), 3)
            spec.music.append(self.music(rng, onset=onset, duration=spec.duration - onset,
                                         style=str(rng.choice(["melody", "drums"]))))

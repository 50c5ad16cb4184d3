"""Procedural sound-event classes of the Unisono world and their registry.

`EVENT_CLASSES` maps a natural class name ("church bell") to an `EventClass` whose `synth` renders
one occurrence from a `numpy.random.Generator`. `render_event` is the one entry point: it seeds the
generator, checks the arguments and fits the result to the exact length, with the sound starting at
sample 0, a 2 ms fade-in, a 10 ms fade-out and a peak of `PEAK_LEVEL`.

Variants: each class's parameter spans are cut into `n_variants` bins; variants 0..n-2 are for
training and variant n-1 (the middle bin, see `synth.Variation`) is held out for generalisation tests.

Registry order (fixed, and the order of the table in the docs) follows the family modules:
signals, resonant objects, nature, animals, impacts, machines.

Shapes: S samples = round(duration * sample_rate).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unisono.errors import UnisonoError
from unisono.world.sfx import animals, impacts, machines, nature, resonant, signals
from unisono.world.sfx.synth import (
    MIN_SAMPLE_RATE,
    N_VARIANTS,
    PEAK_LEVEL,
    checked_length,
    finish,
    n_samples,
)

__all__ = ["EVENT_CLASSES", "MIN_SAMPLE_RATE", "PEAK_LEVEL", "EventClass", "render_event"]


@dataclass(frozen=True)
class EventClass:
    """A procedural sound-event class.

    Attributes:
        name: natural lower-case name, e.g. "church bell".
        family: coarse group: alarm, domestic, tonal, music, nature, animal, human, impact,
            vehicle, mechanical.
        synth: synth(rng, *, duration, sample_rate, variant, count) -> (S,) raw (unnormalised) audio.
        duration_range: natural durations in seconds.
        verbs: present-tense caption phrases ("rings", "tolls").
        countable: made of discrete repetitions a listener can count.
        count_range: inclusive range of repetition counts for countable classes.
        n_variants: variants 0..n-2 are for training, the last one is held out.
    """

    name: str
    family: str
    synth: Callable[..., np.ndarray]
    duration_range: tuple[float, float]
    verbs: tuple[str, ...]
    countable: bool = False
    count_range: tuple[int, int] = (1, 1)
    n_variants: int = N_VARIANTS


def _counted(name: str, family: str, synth: Callable[..., np.ndarray], durations: tuple[float, float],
             verbs: tuple[str, ...], counts: tuple[int, int]) -> EventClass:
    return EventClass(name, family, synth, durations, verbs, countable=True, count_range=counts)


_CLASSES = (
    # signals
    EventClass("siren", "alarm", signals.siren, (2.0, 8.0), ("wails", "blares", "sounds")),
    _counted("doorbell", "domestic", signals.doorbell, (1.0, 3.0), ("rings", "chimes", "dings"), (2, 4)),
    _counted("phone ring", "domestic", signals.phone_ring, (1.5, 6.0), ("rings", "trills"), (1, 3)),
    _counted("smoke alarm", "alarm", signals.smoke_alarm, (1.0, 4.0), ("beeps", "shrieks", "goes off"),
             (1, 6)),
    EventClass("alarm clock", "alarm", signals.alarm_clock, (2.0, 6.0), ("beeps", "goes off", "rings")),
    _counted("buzzer", "alarm", signals.buzzer, (0.5, 3.0), ("buzzes", "sounds"), (1, 3)),
    _counted("whistle", "human", signals.whistle, (0.5, 3.0), ("blows", "shrills", "sounds"), (1, 3)),
    _counted("laser zap", "tonal", signals.laser_zap, (0.3, 2.0), ("zaps", "fires", "pews"), (1, 5)),
    # resonant objects
    _counted("church bell", "tonal", resonant.church_bell, (2.0, 10.0), ("tolls", "rings", "chimes"),
             (1, 5)),
    EventClass("gong", "music", resonant.gong, (2.0, 8.0), ("resonates", "is struck", "crashes")),
    _counted("cowbell", "music", resonant.cowbell, (0.4, 3.0), ("clanks", "is struck", "clonks"), (1, 6)),
    EventClass("wind chimes", "tonal", resonant.wind_chimes, (2.0, 8.0), ("tinkle", "chime", "jingle")),
    _counted("marimba", "music", resonant.marimba, (0.5, 4.0), ("plays", "is struck", "plinks"), (1, 8)),
    _counted("bicycle bell", "vehicle", resonant.bicycle_bell, (0.5, 2.5), ("rings", "dings"), (1, 3)),
    # nature
    EventClass("rain", "nature", nature.rain, (2.0, 10.0), ("falls", "patters", "pours down")),
    EventClass("wind", "nature", nature.wind, (2.0, 10.0), ("blows", "howls", "gusts")),
    EventClass("thunder", "nature", nature.thunder, (2.0, 8.0), ("rumbles", "cracks", "roars")),
    EventClass("waves", "nature", nature.waves, (4.0, 10.0), ("crash", "break", "wash ashore")),
    EventClass("stream", "nature", nature.stream, (2.0, 10.0), ("babbles", "trickles", "flows")),
    _counted("dripping water", "domestic", nature.dripping_water, (0.5, 5.0), ("drips", "plinks"),
             (1, 8)),
    EventClass("bubbling", "nature", nature.bubbling, (1.0, 8.0), ("bubbles", "gurgles", "blubs")),
    EventClass("water pouring", "domestic", nature.water_pouring, (1.0, 5.0), ("pours", "splashes",
                                                                                "fills a glass")),
    EventClass("fire crackling", "nature", nature.fire_crackling, (2.0, 10.0), ("crackles", "pops",
                                                                                 "burns")),
    # animals
    _counted("bird chirp", "animal", animals.bird_chirp, (0.5, 4.0), ("chirps", "tweets", "sings"),
             (1, 8)),
    EventClass("crickets", "animal", animals.crickets, (2.0, 10.0), ("chirp", "trill", "sing")),
    _counted("dog bark", "animal", animals.dog_bark, (0.4, 4.0), ("barks", "woofs", "yaps"), (1, 5)),
    _counted("cat meow", "animal", animals.cat_meow, (0.6, 3.5), ("meows", "mews", "cries"), (1, 3)),
    _counted("owl hoot", "animal", animals.owl_hoot, (0.6, 4.0), ("hoots", "calls"), (1, 4)),
    _counted("frog croak", "animal", animals.frog_croak, (0.4, 3.0), ("croaks", "ribbits"), (1, 5)),
    EventClass("rooster crow", "animal", animals.rooster_crow, (1.2, 2.5), ("crows", "calls")),
    # impacts
    _counted("clapping", "human", impacts.clapping, (0.4, 4.0), ("claps", "applauds"), (1, 8)),
    EventClass("applause", "human", impacts.applause, (2.0, 8.0), ("applauds", "claps", "cheers")),
    _counted("footsteps", "human", impacts.footsteps, (1.0, 6.0), ("walk", "step", "pace"), (2, 10)),
    _counted("knocking", "domestic", impacts.knocking, (0.4, 2.5), ("knocks", "raps", "taps"), (1, 6)),
    EventClass("door slam", "domestic", impacts.door_slam, (0.5, 1.5), ("slams", "bangs shut")),
    EventClass("glass breaking", "impact", impacts.glass_breaking, (0.8, 3.0), ("shatters", "breaks",
                                                                                "smashes")),
    EventClass("coin drop", "impact", impacts.coin_drop, (0.8, 2.5), ("drops", "clinks", "rattles")),
    EventClass("bouncing ball", "impact", impacts.bouncing_ball, (1.5, 4.0), ("bounces", "thuds")),
    _counted("hammering", "mechanical", impacts.hammering, (0.4, 4.0), ("hammers", "bangs", "pounds"),
             (1, 8)),
    _counted("heartbeat", "human", impacts.heartbeat, (1.0, 6.0), ("beats", "thumps", "pounds"), (1, 8)),
    EventClass("drum roll", "music", impacts.drum_roll, (1.0, 5.0), ("rolls", "rumbles", "builds")),
    EventClass("typing", "domestic", impacts.typing, (2.0, 8.0), ("types", "clatters", "clicks")),
    # machines
    EventClass("engine hum", "vehicle", machines.engine_hum, (2.0, 10.0), ("hums", "idles", "drones")),
    _counted("car horn", "vehicle", machines.car_horn, (0.3, 3.0), ("honks", "beeps", "blares"), (1, 4)),
    EventClass("helicopter", "vehicle", machines.helicopter, (2.0, 10.0), ("flies over", "whirs",
                                                                           "thuds")),
    _counted("train horn", "vehicle", machines.train_horn, (1.0, 6.0), ("blares", "sounds", "blows"),
             (1, 3)),
    _counted("ship horn", "vehicle", machines.ship_horn, (2.0, 8.0), ("sounds", "blasts", "booms"),
             (1, 2)),
    EventClass("ticking clock", "domestic", machines.ticking_clock, (2.0, 10.0), ("ticks", "tick-tocks")),
    _counted("camera shutter", "mechanical", machines.camera_shutter, (0.3, 2.5), ("clicks", "snaps"),
             (1, 4)),
    EventClass("sawing", "mechanical", machines.sawing, (2.0, 8.0), ("saws", "rasps", "cuts")),
    EventClass("power drill", "mechanical", machines.power_drill, (1.0, 5.0), ("whirs", "drills",
                                                                               "whines")),
)

EVENT_CLASSES: dict[str, EventClass] = {event.name: event for event in _CLASSES}


def _lookup(name: str) -> EventClass:
    if name in EVENT_CLASSES:
        return EVENT_CLASSES[name]
    close = difflib.get_close_matches(name.lower(), list(EVENT_CLASSES), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    raise UnisonoError(
        f"unknown sound-event class {name!r}; {hint}"
        "see unisono.world.sfx.EVENT_CLASSES for the full list"
    )


def render_event(
    name: str,
    *,
    seed: int,
    duration: float,
    sample_rate: int,
    variant: int = 0,
    count: int | None = None,
) -> np.ndarray:
    """Render one sound event, deterministically from `seed`.

    Args:
        name: a key of `EVENT_CLASSES`.
        seed: random seed; identical arguments give byte-identical output.
        duration: clip length in seconds (> 0).
        sample_rate: sampling rate in Hz (>= MIN_SAMPLE_RATE = 16000).
        variant: 0..n_variants-1 (the last is the held-out variant).
        count: repetitions for countable classes (default: the class's minimum); must be 1 or
            None for other classes.

    Returns:
        (S,) float32 with S = round(duration * sample_rate), peak PEAK_LEVEL, starting at sample 0.

    Raises:
        UnisonoError: unknown class (close names are suggested), bad variant, duration, rate or count.
    """
    event = _lookup(name)
    checked_length(duration, sample_rate)
    if not (isinstance(variant, int | np.integer) and 0 <= variant < event.n_variants):
        raise UnisonoError(
            f"variant must be an integer in 0..{event.n_variants - 1} for {name!r}, got {variant!r}"
        )
    if count is None:
        count = event.count_range[0]
    if not event.countable and count != 1:
        raise UnisonoError(f"{name!r} is not countable; pass count=None (or 1), got {count!r}")
    if count < 1 or count != int(count):
        raise UnisonoError(f"count must be a positive integer, got {count!r}")
    rng = np.random.default_rng(seed)
    raw = event.synth(rng, duration=float(duration), sample_rate=int(sample_rate), variant=int(variant),
                      count=int(count))
    return finish(raw, n_samples(duration, sample_rate), int(sample_rate))

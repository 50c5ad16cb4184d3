"""Editing tasks (add / remove / replace / extract / restyle) and timed composition.

Scene edits follow UNISON Table 10 and Audio-Omni 3 (Scaper-style mixing): a background clip of
any kind, RMS-normalised, and a named event clip (a captioned or labelled sfx/audio clip, silence
trimmed, maybe stretched, pitch-shifted or reverberated), faded and placed at a random onset on a
0.1 s grid at a random event-to-background SNR. Both sides of an edit are sums of the same stems,
so the targets are exact: remove's target is the mix minus the event, add's target is the source
plus the event, replace swaps one event for another at the same onset and SNR, extract's target is
the event alone. Instructions name the event by its label or a caption, sometimes with its time.

Restyle re-renders a music clip's notes (manifest `notes`, `instrument`) with another General MIDI
instrument of a fitting range (or another drum kit): same notes, other timbre. Sound effects have
no restyle: a pitch or speed change of one recording is not another instrument or timbre.

Timed composition (a generation task) places two or three named events one after another and
lists them with their times ("From 0.5 s to 1.2 s a whistle, then from 2 s to 3.1 s a drum roll").

Shapes: S samples (mono float32, the pool's sample rate).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unisono.audio import fade, normalize_rms, rms
from unisono.data.clips import event_names, load_clip, pool_rate, require_clips, role_clips
from unisono.data.manifest import ManifestEntry
from unisono.data.synthesis import (
    SILENT_RMS,
    AugmentConfig,
    Mixture,
    augment,
    event_gain,
    place_event,
    random_window,
    trim_silence,
)
from unisono.errors import UnisonoError
from unisono.tasks.base import (
    TAG_TRANSFORM,
    ClipPool,
    InferenceRecipe,
    Task,
    TaskExample,
    register,
)

BACKGROUND_KINDS = ("sfx", "scene", "music", "speech", "singing", "audio")
EVENT_KINDS = ("sfx", "audio")
SNR_RANGE_DB = (-3.0, 6.0)  # event over background (UNISON eval: [-3, 3]; Audio-Omni: [0, 3])
BACKGROUND_LEVEL_DB = (-32.0, -20.0)
EVENT_LEVEL_DB = (-26.0, -16.0)  # timed composition and restyle have no background to refer to
FADE_RANGE_SECONDS = (0.005, 0.05)
MIN_BACKGROUND_SECONDS = 1.0
CROP_FACTOR = 4.0  # backgrounds up to this many times max_seconds are cropped to a window
ATTEMPTS = 8  # draws before a role gives up on clips that turn out too long, short or silent
EVENT_AUGMENT = AugmentConfig(stretch_probability=0.25, pitch_probability=0.25,
                              reverb_probability=0.2)
BACKGROUND_AUGMENT = AugmentConfig(reverb_probability=0.1, noise_probability=0.15,
                                   lowpass_probability=0.05)


ADD_TEMPLATES = (
    "Add {event}.",
    "Add {event} at {time} s.",
    "Insert the sound of {event}.",
    "Insert {event} starting at {time} s.",
    "Put {event} into this recording.",
    "Mix in {event} at {time} seconds.",
    "Overlay {event} on the audio.",
    "At {time} s, add {event}.",
    "Edit the audio so that {event} can be heard.",
    "Add the sound of {event} to this clip, keeping everything else.",
    "Make {event} appear in the recording at {time} s.",
)
REMOVE_TEMPLATES = (
    "Remove {event}.",
    "Remove {event} at {time} s.",
    "Delete the sound of {event}.",
    "Take out {event}.",
    "Get rid of {event} around {time} s.",
    "Erase {event} from the recording.",
    "Cut {event} out of the audio and keep everything else.",
    "Make this recording without {event}.",
    "Remove the sound of {event} that starts at {time} s.",
    "Filter out {event}.",
    "Eliminate {event} but keep the background.",
)
REPLACE_TEMPLATES = (
    "Replace {old} with {new}.",
    "Replace {old} with {new} at {time} s.",
    "Swap {old} for {new}.",
    "Change {old} into {new}.",
    "Remove {old} and add {new}.",
    "Remove {old}, then add {new} in its place.",
    "At {time} s, turn {old} into {new}.",
    "Substitute {new} for {old}.",
    "Instead of {old}, make it {new}.",
    "Exchange {old} with {new} and keep the rest.",
    "Put {new} where {old} was.",
)
EXTRACT_TEMPLATES = (
    "Extract {event}.",
    "Isolate {event}.",
    "Keep only {event}.",
    "Separate {event} from the background.",
    "Extract the sound of {event} at {time} s.",
    "Remove everything except {event}.",
    "Pull out {event} and silence the rest.",
    "Give me {event} alone.",
    "Isolate {event}, which starts at {time} s.",
    "Only keep the sound of {event}.",
    "Extract {event} from this mix.",
)
RESTYLE_TEMPLATES = (
    "Play this on {instrument}.",
    "Play the same notes on {instrument}.",
    "Change the instrument to {instrument}.",
    "Make it sound like {instrument}.",
    "Re-render this phrase with {instrument}.",
    "Switch {source} to {instrument}.",
    "Replace {source} with {instrument}, same notes.",
    "Same music, but played by {instrument}.",
    "Perform this with {instrument} instead.",
    "Turn {source} into {instrument}.",
    "Keep the notes and change the timbre to {instrument}.",
)
TIMED_TEMPLATES = (
    "{timeline}",
    "Generate audio: {timeline}.",
    "Create a sound sequence: {timeline}.",
    "Compose these sounds in order: {timeline}.",
    "Make a recording where {timeline}.",
    "Produce a timeline of events: {timeline}.",
    "Arrange the sounds like this: {timeline}.",
    "Synthesize audio with precise timing: {timeline}.",
    "Timed sound design: {timeline}.",
    "Render this schedule of sounds: {timeline}.",
    "I want to hear {timeline}.",
)
_TIMELINE_STYLES = (
    ("from {start} s to {end} s {name}", ", then "),
    ("{name} from {start} s to {end} s", "; "),
    ("{name} starting at {start} s and ending at {end} s", ", followed by "),
)


def phrase(text: str) -> str:
    """Text for the middle of a sentence: no full stop, a lower-case first letter (acronyms kept)."""
    text = text.strip().rstrip(".")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[:1].lower() + text[1:]
    return text


def fill(template: str, **fields: str) -> str:
    """Fill a template with mid-sentence phrases; the result starts with a capital letter."""
    text = template.format(**{key: phrase(value) for key, value in fields.items()})
    return text[:1].upper() + text[1:]


def seconds_text(seconds: float) -> str:
    """A time as instructions write it: one decimal, no trailing ".0" ("2", "2.5")."""
    return f"{seconds:.1f}".removesuffix(".0")


def with_article(name: str) -> str:
    """"a violin", "an oboe"; plural and collective names ("strings") stay bare."""
    if name.endswith("s") and not name.endswith("ss"):
        return name
    return ("an " if name[:1].lower() in "aeiou8" else "a ") + name


def timeline_text(items: list[tuple[str, float, float]], *, style: int) -> str:
    """Events with times, e.g. "from 0.5 s to 1.2 s a whistle, then from 2 s to 3 s a drum roll".

    Args:
        items: (name, start, end) in seconds, in time order.
        style: index of one of three phrasings.
    """
    form, joiner = _TIMELINE_STYLES[style]
    return joiner.join(form.format(name=phrase(name), start=seconds_text(start),
                                   end=seconds_text(end)) for name, start, end in items)


@dataclass
class DrawnEvent:
    """An event clip ready to place: its entry, the name used in words, and its audio (S,)."""

    entry: ManifestEntry
    name: str
    audio: np.ndarray


def _pick(candidates: list[ManifestEntry], rng: np.random.Generator,
          exclude: tuple[str, ...] = (),
          avoid: Callable[[ManifestEntry], bool] | None = None) -> ManifestEntry:
    """A random candidate whose id is not excluded and, if any such exists, that `avoid` does not
    flag. Redraws first (exclusions are few and pools large), then filters the whole list."""
    def acceptable(entry: ManifestEntry) -> bool:
        return entry.id not in exclude and (avoid is None or not avoid(entry))

    for _ in range(16):
        entry = candidates[int(rng.integers(len(candidates)))]
        if acceptable(entry):
            return entry
    remaining = [entry for entry in candidates if acceptable(entry)]
    if not remaining and avoid is not None:
        remaining = [entry for entry in candidates if entry.id not in exclude]
    if not remaining:
        raise UnisonoError("every candidate clip is already used in this example; add more clips")
    return remaining[int(rng.integers(len(remaining)))]


def _mentions(entry: ManifestEntry, sounds: tuple[str, ...]) -> bool:
    """Whether a clip's labels or captions name one of `sounds` (lower-case words)."""
    labels = {label.strip().lower() for label in entry.labels}
    if labels.intersection(sounds):
        return True
    text = " ".join(entry.captions).lower()
    return any(re.search(rf"\b{re.escape(sound)}\b", text) for sound in sounds)


def draw_background(task: str, pool: ClipPool, rng: np.random.Generator, *, min_samples: int,
                    exclude: tuple[str, ...] = (), avoid: tuple[str, ...] = ()
                    ) -> tuple[ManifestEntry, np.ndarray]:
    """A background of any kind and at least `min_samples` long: a random window of at most
    `pool.max_seconds`, RMS-normalised to a random level and lightly augmented (reverb, noise,
    low-pass; the same on both sides of an edit).

    Args:
        task: the task name (for messages).
        pool: the clip pool.
        rng: the example's generator.
        min_samples: shortest acceptable background.
        exclude: clip ids not to use (the events').
        avoid: lower-case sound names the background should not contain (the edited events', so
            that "Remove the dog bark" never leaves another dog bark behind); ignored when the
            pool offers no other background.

    Raises:
        UnisonoError: the pool has no clip long enough.
    """
    rate = pool_rate(pool)
    shortest = max(min_samples, int(MIN_BACKGROUND_SECONDS * rate))
    clips = role_clips(pool, "edit.background", lambda entry: entry.kind in BACKGROUND_KINDS)
    candidates = clips.between(shortest / rate, CROP_FACTOR * pool.max_seconds)
    require_clips(candidates, task=task, what=f"background clips of {shortest / rate:.1f} s to "
                  f"{CROP_FACTOR * pool.max_seconds:g} s besides the event clips")
    limit = int(pool.max_seconds * rate)
    for _ in range(ATTEMPTS):
        entry = _pick(candidates, rng, exclude, (lambda e: _mentions(e, avoid)) if avoid else None)
        audio = random_window(load_clip(pool, entry), limit, rng, rate=rate)
        if audio.shape[0] >= shortest:
            audio = normalize_rms(audio, float(rng.uniform(*BACKGROUND_LEVEL_DB)))
            return entry, augment(audio, rate, rng, BACKGROUND_AUGMENT)[0]
    raise UnisonoError(f"task {task}: the background clips drawn were all shorter than "
                       f"{shortest / rate:.1f} s; set their `duration` in the manifest.")


def draw_event(task: str, pool: ClipPool, rng: np.random.Generator, *, max_samples: int,
               exclude: tuple[str, ...] = ()) -> DrawnEvent | None:
    """A named sfx/audio clip, trimmed, augmented and faded, at most `max_samples` long.

    Returns None when no event clip fits in `max_samples`.

    Raises:
        UnisonoError: the pool has no named event clips at all.
    """
    named = role_clips(pool, "edit.event",
                       lambda entry: entry.kind in EVENT_KINDS and bool(event_names(entry)))
    require_clips(named.between(0.0, pool.max_seconds), task=task,
                  what=f"captioned or labelled {'/'.join(EVENT_KINDS)} clips up to "
                  f"{pool.max_seconds:g} s")
    # One-label clips are one sound with a short name; scenes of several events named by a long
    # caption are used only when no one-label clip fits (e.g. in captions-only datasets).
    single = role_clips(pool, "edit.single_event",
                        lambda entry: entry.kind in EVENT_KINDS and len(entry.labels) == 1)
    rate = pool_rate(pool)
    # Trimming and stretching can shorten a clip by up to ~1/0.8, so slightly long ones may fit.
    longest = min(max_samples / rate / 0.8, pool.max_seconds)
    candidates = single.between(0.0, longest)
    if not any(entry.id not in exclude for entry in candidates):
        candidates = named.between(0.0, longest)
    usable = any(entry.id not in exclude for entry in candidates)
    for _ in range(ATTEMPTS if usable else 0):
        entry = _pick(candidates, rng, exclude)
        names = event_names(entry)
        name = names[int(rng.integers(len(names)))]
        audio = trim_silence(load_clip(pool, entry), rate)
        audio, _ = augment(audio, rate, rng, EVENT_AUGMENT)
        fades = rng.uniform(*FADE_RANGE_SECONDS)
        if audio.shape[0] <= max_samples and rms(audio) > SILENT_RMS:
            return DrawnEvent(entry, name, fade(audio, rate, fade_in=fades, fade_out=fades))
    return None


def edit_mixture(task: str, pool: ClipPool, rng: np.random.Generator, *,
                 replacement: bool = False) -> tuple[Mixture, list[DrawnEvent]]:
    """The stems of a scene edit: "background" and "event" (and "new" for a replacement), all
    placed at one onset (0.1 s grid) and one SNR, scaled together to peak <= 0.99.

    The event clips are drawn first, then a background at least as long. The mixture's `onsets`
    hold each event stem's onset in seconds. Tests rebuild the stems of an example by calling
    this with a generator seeded like the builder's.
    """
    rate = pool_rate(pool)
    events: list[DrawnEvent] = []
    for _ in range(2 if replacement else 1):
        drawn = draw_event(task, pool, rng, max_samples=int(pool.max_seconds * rate),
                           exclude=tuple(e.entry.id for e in events))
        if drawn is None:
            raise UnisonoError(f"task {task}: no {'second ' if events else ''}event clip fits in "
                               f"{pool.max_seconds:g} s; add (shorter) named sfx clips or raise "
                               "max_seconds.")
        events.append(drawn)
    longest = max(e.audio.shape[0] for e in events)
    sounds = {label.strip().lower() for e in events for label in e.entry.labels}
    sounds.update(e.name.strip().lower() for e in events if len(e.name.split()) <= 3)
    _, background = draw_background(task, pool, rng, min_samples=longest,
                                    exclude=tuple(e.entry.id for e in events),
                                    avoid=tuple(sorted(sounds)))
    total = background.shape[0]
    onset = int(rng.integers(int((total - longest) / rate * 10) + 1)) / 10
    snr = float(rng.uniform(*SNR_RANGE_DB))
    stems = {"background": background}
    for stem, drawn in zip(("event", "new"), events, strict=False):
        gain = event_gain(background, drawn.audio, snr)
        stems[stem] = place_event(drawn.audio * np.float32(gain), total, int(round(onset * rate)),
                                  rate, fade_seconds=0.0)
    mixture = Mixture(stems, onsets={stem: onset for stem in stems if stem != "background"})
    events_alone = [(stem,) for stem in mixture.onsets]  # extract's target is one event alone
    mixture.fit_peak(*[("background", stem) for stem in mixture.onsets], *events_alone)
    return mixture, events


def _instruction(task: Task, rng: np.random.Generator, **fields: str) -> str:
    template = task.templates[int(rng.integers(len(task.templates)))]
    return fill(template, **fields)


def _edit_example(name: str, pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME[name]
    mixture, events = edit_mixture(name, pool, rng, replacement=name == "edit_replace")
    sides = {
        "edit_add": (("background",), ("background", "event")),
        "edit_remove": (("background", "event"), ("background",)),
        "edit_replace": (("background", "event"), ("background", "new")),
        "edit_extract": (("background", "event"), ("event",)),
    }[name]
    fields = {"event": events[0].name, "time": seconds_text(mixture.onsets["event"])}
    if name == "edit_replace":
        fields = {"old": events[0].name, "new": events[1].name, "time": fields["time"]}
    target = mixture.mix(*sides[1])
    return TaskExample(
        task=name,
        instruction=_instruction(task, rng, **fields),
        duration=target.shape[0] / pool.sample_rate,
        target=target,
        source=mixture.mix(*sides[0]),
        source_tag=TAG_TRANSFORM,
    )


def _build_add(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _edit_example("edit_add", pool, rng)


def _build_remove(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _edit_example("edit_remove", pool, rng)


def _build_replace(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _edit_example("edit_replace", pool, rng)


def _build_extract(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _edit_example("edit_extract", pool, rng)


# ----------------------------------------------------------------------------- restyle


def _is_drum_part(entry: ManifestEntry) -> bool:
    from unisono.world import music

    name = (entry.instrument or "").lower()
    if name in music.INSTRUMENTS:  # "steel drums" is melodic
        return False
    return name in music.DRUM_KITS or "drum" in name or "percussion" in name


def _fitting_instruments(pitches: list[int], polyphonic: bool) -> list[str]:
    """Instruments whose comfortable range holds the notes (3 semitones of slack), that can play
    chords when the part has simultaneous notes; else those holding the median pitch."""
    from unisono.world.music import _INSTRUMENT_TABLE  # name -> (program, low, high, roles)

    playable = {name: row for name, row in _INSTRUMENT_TABLE.items()
                if "chords" in row[3] or not polyphonic}
    low, high, middle = min(pitches), max(pitches), float(np.median(pitches))
    fitting = [name for name, (_, lo, hi, _) in playable.items() if lo - 3 <= low and high <= hi + 3]
    return fitting or [name for name, (_, lo, hi, _) in playable.items() if lo <= middle <= hi]


def restyle_pair(task: str, pool: ClipPool, rng: np.random.Generator
                 ) -> tuple[ManifestEntry, str, str, np.ndarray, np.ndarray]:
    """A music clip's notes rendered twice: (entry, source instrument, target instrument,
    source audio, target audio), both (S,) at one RMS level, peak <= 0.99.

    Raises:
        UnisonoError: the pool has no music clips with notes.
    """
    from unisono.world import music

    rate = pool_rate(pool)
    candidates = role_clips(pool, "edit.restyle",
                            lambda entry: entry.kind == "music" and bool(entry.notes)).between()
    require_clips(candidates, task=task, what="music clips with `notes`")
    entry = _pick(candidates, rng)
    end = max(n.offset for n in entry.notes)
    duration = min(entry.duration if entry.duration is not None else end + 0.5, pool.max_seconds)
    notes = [music.Note(n.pitch, n.onset, min(n.offset, duration), n.velocity or 90)
             for n in entry.notes if n.onset < duration - 0.05]
    if not notes:
        raise UnisonoError(f"music clip {entry.id!r} has no notes in its first {duration:.1f} s")
    drums = _is_drum_part(entry)
    if drums:
        choices = list(music.DRUM_KITS)
    else:
        onsets = [n.onset for n in notes]
        polyphonic = len(set(onsets)) < len(onsets)
        choices = _fitting_instruments([n.pitch for n in notes], polyphonic)
    table = music.DRUM_KITS if drums else music.INSTRUMENTS
    # Both sides are rendered from the notes; an instrument name the synthesiser lacks is
    # replaced by a fitting one (the instruction names what the source really plays).
    source = entry.instrument if entry.instrument in table else _pick_name(choices, rng)
    others = [name for name in choices if table[name] != table[source]]
    if not others:
        raise UnisonoError(f"no other instrument fits the notes of music clip {entry.id!r}")
    target = _pick_name(others, rng)
    level = float(rng.uniform(*EVENT_LEVEL_DB))
    rendered = []
    for name in (source, target):
        part = music.Part(name, table[name], drums, "drums" if drums else "melody", notes)
        audio = music.render_part(part, duration=duration, sample_rate=rate)
        rendered.append(normalize_rms(audio, level))
    mixture = Mixture({"source": rendered[0], "target": rendered[1]})
    mixture.fit_peak(("source",), ("target",))
    return entry, source, target, mixture.stems["source"], mixture.stems["target"]


def _pick_name(names: list[str], rng: np.random.Generator) -> str:
    return names[int(rng.integers(len(names)))]


def _build_restyle(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    _, source_name, target_name, source, target = restyle_pair("edit_restyle", pool, rng)
    instruction = _instruction(TASKS_BY_NAME["edit_restyle"], rng,
                               instrument=with_article(target_name),
                               source=with_article(source_name))
    return TaskExample(task="edit_restyle", instruction=instruction,
                       duration=target.shape[0] / pool.sample_rate, target=target, source=source,
                       source_tag=TAG_TRANSFORM)


# ----------------------------------------------------------------------------- timed


def timed_mixture(task: str, pool: ClipPool, rng: np.random.Generator
                  ) -> tuple[Mixture, list[DrawnEvent], list[tuple[float, float]]]:
    """Two or three named events one after another: stems "event0", "event1", ... and each
    event's (onset, offset) in seconds (onsets on a 0.1 s grid, offsets where the sound ends)."""
    rate = pool_rate(pool)
    wanted = int(rng.integers(2, 4))
    start = int(rng.integers(0, 11)) / 10
    placed: list[tuple[DrawnEvent, float]] = []
    for _ in range(wanted):
        room = pool.max_seconds - start - 0.1
        if room < 0.3:
            break
        drawn = draw_event(task, pool, rng, max_samples=int(room * rate),
                           exclude=tuple(e.entry.id for e, _ in placed))
        if drawn is None:
            break
        placed.append((drawn, start))
        end = start + drawn.audio.shape[0] / rate
        start = math.ceil(end * 10 - 1e-9) / 10 + int(rng.integers(0, 11)) / 10
    if not placed:
        raise UnisonoError(f"task {task}: no event clip fits in {pool.max_seconds:g} s; add "
                           "shorter sfx clips or raise max_seconds.")
    last, last_onset = placed[-1]
    end = last_onset + last.audio.shape[0] / rate
    tail = float(rng.uniform(0.2, 1.0))
    total = min(int(pool.max_seconds * rate), int(math.ceil((end + tail) * rate)))
    stems, onsets, spans = {}, {}, []
    for index, (drawn, onset) in enumerate(placed):
        level = float(rng.uniform(*EVENT_LEVEL_DB))
        audio = drawn.audio * np.float32(10.0 ** (level / 20.0) / rms(drawn.audio))
        stems[f"event{index}"] = place_event(audio, total, int(round(onset * rate)), rate,
                                             fade_seconds=0.0)
        onsets[f"event{index}"] = onset
        spans.append((onset, onset + drawn.audio.shape[0] / rate))
    mixture = Mixture(stems, onsets=onsets)
    mixture.fit_peak()
    return mixture, [drawn for drawn, _ in placed], spans


def _build_timed(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    mixture, events, spans = timed_mixture("timed", pool, rng)
    style = int(rng.integers(3))
    timeline = timeline_text([(e.name, a, b) for e, (a, b) in zip(events, spans, strict=True)],
                             style=style)
    target = mixture.mix()
    return TaskExample(task="timed", instruction=_instruction(TASKS_BY_NAME["timed"], rng,
                                                              timeline=timeline),
                       duration=target.shape[0] / pool.sample_rate, target=target)


def _edit_task(name: str, description: str, templates: tuple[str, ...], build) -> Task:
    return register(Task(
        name=name, family="editing", description=description, kinds=BACKGROUND_KINDS,
        templates=templates, build=build, recipe=InferenceRecipe(steps=25, cfg=4.0),
        time_aligned=True,
    ))


TASKS_BY_NAME = {
    task.name: task
    for task in (
        _edit_task("edit_add", "add a named sound event to a recording", ADD_TEMPLATES,
                   _build_add),
        _edit_task("edit_remove", "remove a named sound event from a recording",
                   REMOVE_TEMPLATES, _build_remove),
        _edit_task("edit_replace", "replace one sound event by another at the same time",
                   REPLACE_TEMPLATES, _build_replace),
        _edit_task("edit_extract", "keep only a named sound event, removing the rest",
                   EXTRACT_TEMPLATES, _build_extract),
        register(Task(
            name="edit_restyle", family="editing",
            description="play the same notes with another instrument or drum kit",
            kinds=("music",), templates=RESTYLE_TEMPLATES, build=_build_restyle,
            recipe=InferenceRecipe(steps=25, cfg=4.0), time_aligned=True,
        )),
        register(Task(
            name="timed", family="generation",
            description="timed composition: named events at given times",
            kinds=EVENT_KINDS, templates=TIMED_TEMPLATES, build=_build_timed,
            recipe=InferenceRecipe(steps=25, cfg=4.0),
        )),
    )
}

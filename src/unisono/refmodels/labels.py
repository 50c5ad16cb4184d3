"""Label vocabularies of the reference tagger and the training targets of a manifest entry.

`world_label_sets()` lists every label the world can produce, in a fixed order: the procedural
event classes (registry order), the recorded clips' labels of the installed Debian packages
(sorted), the background beds, and the coarse labels speech / singing / music; the General MIDI
instruments of `unisono.world.music` plus "drums" (every drum kit); the world's voices plus
"none"; and the genders.

`clip_targets(entry, labels)` reads what a clip contains from its manifest line. World lines
(source "unisono-world") name their events, background and coarse labels exactly, so event names
that are also instrument names ("marimba", "whistle") are told apart; other manifests (the
recorded clips, user data) contribute their `labels` that the vocabulary knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from unisono.data.manifest import ManifestEntry
from unisono.models.tagger import NONE_LABEL

COARSE_LABELS = ("speech", "singing", "music")
DRUMS_LABEL = "drums"
GENDERS = ("female", "male", NONE_LABEL)
WORLD_SOURCE = "unisono-world"
IGNORE = -1  # target index of an unknown voice / gender: no loss for that clip


@dataclass(frozen=True)
class LabelSets:
    """Label names per tagger head."""

    events: tuple[str, ...]
    instruments: tuple[str, ...]
    voices: tuple[str, ...]
    genders: tuple[str, ...] = GENDERS


def world_label_sets() -> LabelSets:
    """Every label of the world and of the installed recorded clips (see the module docstring)."""
    from unisono.world import backgrounds, music, real, sfx, speech

    events = list(sfx.EVENT_CLASSES)
    extra = list(real.real_labels(real.index_real_clips())) + sorted(backgrounds.BACKGROUNDS)
    for label in [*extra, "babble", *COARSE_LABELS]:
        if label not in events:
            events.append(label)
    instruments = [*music.INSTRUMENTS, DRUMS_LABEL]
    voices = [*sorted(speech.VOICES), NONE_LABEL]
    return LabelSets(tuple(events), tuple(instruments), tuple(voices))


@dataclass(frozen=True)
class ClipTargets:
    """Indices into the label sets; `voice` / `gender` are IGNORE when unknown."""

    events: tuple[int, ...]
    instruments: tuple[int, ...]
    voice: int
    gender: int


def _instrument_label(name: str) -> str | None:
    from unisono.world import music

    if name in music.INSTRUMENTS:
        return name
    if name in music.DRUM_KITS:
        return DRUMS_LABEL
    return None


def clip_targets(entry: ManifestEntry, labels: LabelSets) -> ClipTargets:
    """What the tagger should say about one manifest entry (unknown names are skipped)."""
    event_index = {name: i for i, name in enumerate(labels.events)}
    if entry.source == WORLD_SOURCE:
        present = [event.event_class for event in entry.events]
        background = entry.extra.get("background")
        if background:
            present.append(str(background))
        present += [name for name in COARSE_LABELS if name in entry.labels]
        taken = set(present) | {f"{g} {c}" for g in GENDERS for c in COARSE_LABELS}
        instruments = {_instrument_label(name) for name in entry.labels if name not in taken}
    else:
        present = list(entry.labels)
        instruments = {_instrument_label(name) for name in entry.labels} if entry.kind == "music" else set()
    instrument_index = {name: i for i, name in enumerate(labels.instruments)}
    voice_index = {name: i for i, name in enumerate(labels.voices)}
    gender_index = {name: i for i, name in enumerate(labels.genders)}
    if entry.speaker is None:
        voice = voice_index.get(NONE_LABEL, IGNORE)
    else:
        voice = voice_index.get(entry.speaker, IGNORE)
    if entry.gender is not None:
        gender = gender_index.get(entry.gender, IGNORE)
    else:
        gender = gender_index.get(NONE_LABEL, IGNORE) if entry.speaker is None else IGNORE
    return ClipTargets(
        events=tuple(sorted({event_index[n] for n in present if n in event_index})),
        instruments=tuple(sorted(instrument_index[n] for n in instruments if n in instrument_index)),
        voice=voice,
        gender=gender,
    )

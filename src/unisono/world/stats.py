"""Counts of what the world can make (`unisono world stats`) and of a rendered manifest."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any


def catalogue_stats() -> dict[str, Any]:
    """Sizes of the world's catalogues: procedural classes, real clips, voices, instruments, words."""
    from unisono.world import backgrounds, music, real, sfx, speech, text

    clips = real.index_real_clips()
    labels = real.real_labels(clips)
    voices = speech.VOICES.values()
    return {
        "procedural_classes": len(sfx.EVENT_CLASSES),
        "procedural_families": dict(sorted(Counter(c.family for c in sfx.EVENT_CLASSES.values()).items())),
        "real_clips": len(clips),
        "real_labels": len(labels),
        "real_sources": dict(sorted(Counter(c.source for c in clips).items())),
        "real_splits": dict(Counter(real.split_of_clip(c) for c in clips)),
        "voices": len(speech.VOICES),
        "voices_by_gender": dict(sorted(Counter(v.gender for v in voices).items())),
        "voices_by_engine": dict(sorted(Counter(v.engine for v in voices).items())),
        "instruments": len(music.INSTRUMENTS),
        "drum_styles": len(music.DRUM_STYLES),
        "backgrounds": len(backgrounds.BACKGROUNDS) + 1,  # + babble
        "vocabulary_words": len(text.VOCABULARY),
        "held_out_sentences": len(text.HELD_OUT_SENTENCES),
    }


def manifest_stats(manifest: str | Path) -> dict[str, Any]:
    """Counts of kinds, event classes, voices and instruments in a rendered manifest."""
    kinds: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    speakers: Counter[str] = Counter()
    instruments: Counter[str] = Counter()
    seconds = 0.0
    with open(manifest) as handle:
        for line in handle:
            row = json.loads(line)
            kinds[row.get("kind", "?")] += 1
            seconds += float(row.get("duration") or 0.0)
            classes.update(e["class"] for e in row.get("events", []))
            if row.get("speaker"):
                speakers[row["speaker"]] += 1
            if row.get("instrument"):
                instruments[row["instrument"]] += 1
    return {"clips": sum(kinds.values()), "hours": round(seconds / 3600, 3), "kinds": dict(kinds),
            "event_classes": len(classes), "speakers": len(speakers), "instruments": len(instruments)}


def format_stats(stats: dict[str, Any]) -> str:
    width = max(len(k) for k in stats)
    return "\n".join(f"{k.replace('_', ' '):<{width}}  {v}" for k, v in stats.items())

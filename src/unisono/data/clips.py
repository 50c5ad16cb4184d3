"""Clip access for online synthesis: decoded audio at the pool's rate, and which clips fit a role.

Task builders draw manifest entries from a `ClipPool` and need their audio as mono float32 at the
pool's sample rate. `load_clip` resolves the entry's file, decodes, downmixes and resamples it
(`unisono.audio.load_audio`) and keeps the result in a least-recently-used cache, so a clip drawn
again costs nothing. Cached arrays are read-only: builders copy before changing samples.

The role helpers work on any manifest, world or user-made: `clips_of_kinds` filters by kind and
length (optionally requiring a name: captions or labels), `role_clips` keeps such a selection in
the pool sorted by length (built once, then every draw is a bisection, not a scan of thousands of
entries), `event_names` says what a clip sounds like in words that stay true once the clip is
moved in time.

Shapes: S samples (mono float32).
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unisono.audio import load_audio
from unisono.data.manifest import ManifestEntry, read_manifest, resolve_path
from unisono.errors import UnisonoError

if TYPE_CHECKING:  # tasks import this module; the pool type is only needed for annotations
    from unisono.tasks.base import ClipPool

DEFAULT_CACHE_ITEMS = 256  # ~80 MB of 5 s clips at 16 kHz

# "from 0.4 s to 1.1 s", "at 2 s", "0.5 seconds": captions that state times in the clip.
_TIMED_CAPTION = re.compile(r"\d\s*(s|sec|secs|seconds?)\b", re.IGNORECASE)


class ClipCache:
    """Decoded clips keyed by (file, sample rate), least recently used dropped first."""

    def __init__(self, max_items: int = DEFAULT_CACHE_ITEMS) -> None:
        if max_items < 0:
            raise UnisonoError(f"the clip cache size must be >= 0; got {max_items}")
        self.max_items = max_items
        self._items: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, path: Path, sample_rate: int) -> np.ndarray:
        """The clip at `path` as read-only mono float32 (S,) at `sample_rate`."""
        key = (str(path), int(sample_rate))
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        audio, _ = load_audio(path, sample_rate)
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        audio.flags.writeable = False
        if self.max_items > 0:
            self._items[key] = audio
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return audio

    def clear(self) -> None:
        """Forget every decoded clip."""
        self._items.clear()


_CACHE = ClipCache()


def clip_path(pool: ClipPool, entry: ManifestEntry) -> Path:
    """The audio file of a pool entry: `pool.paths[id]`, else the entry's absolute path.

    Raises:
        UnisonoError: the entry's path is relative and the pool does not know its manifest.
    """
    if entry.id in pool.paths:
        return Path(pool.paths[entry.id])
    path = Path(entry.path).expanduser()
    if path.is_absolute():
        return path
    raise UnisonoError(
        f"clip {entry.id!r} has the relative path {entry.path!r} but the clip pool does not know "
        "its manifest: build the pool with unisono.data.clips.pool_from_manifests, or fill "
        "ClipPool.paths with each clip's resolved file."
    )


def load_clip(pool: ClipPool, entry: ManifestEntry, *, cache: ClipCache | None = None) -> np.ndarray:
    """A pool entry's audio: mono float32 (S,) at `pool.sample_rate`, read-only, cached.

    Args:
        pool: the pool the entry belongs to (its sample rate and resolved paths).
        entry: the clip.
        cache: where decoded clips are kept; the module's shared cache by default.

    Raises:
        UnisonoError: the pool has no sample rate yet, or the file is missing or unreadable.
    """
    return (_CACHE if cache is None else cache).get(clip_path(pool, entry), pool_rate(pool))


def pool_rate(pool: ClipPool) -> int:
    """The pool's sample rate, with a clear error while it is still unset (0).

    Raises:
        UnisonoError: `pool.sample_rate` is not positive.
    """
    if pool.sample_rate <= 0:
        raise UnisonoError(
            "the clip pool has no sample rate (ClipPool.sample_rate is "
            f"{pool.sample_rate}): set it to the codec's, e.g. pool.sample_rate = codec.sample_rate."
        )
    return int(pool.sample_rate)


def pool_from_manifests(
    manifests: Sequence[str | Path], *, sample_rate: int, max_seconds: float
) -> ClipPool:
    """Read manifests into a clip pool whose relative paths are resolved.

    Args:
        manifests: JSONL manifests (paths inside relative to each manifest's folder).
        sample_rate: the rate builders synthesise at (the codec's).
        max_seconds: longest target.

    Raises:
        UnisonoError: a bad manifest, or one clip id in two manifests.
    """
    from unisono.tasks.base import ClipPool

    entries: list[ManifestEntry] = []
    paths: dict[str, Path] = {}
    seen: dict[str, str] = {}
    for manifest in manifests:
        for entry in read_manifest(manifest):
            if entry.id in seen:
                raise UnisonoError(
                    f"clip id {entry.id!r} appears in {seen[entry.id]} and {manifest}; ids must be "
                    "unique across the manifests of one pool."
                )
            seen[entry.id] = str(manifest)
            entries.append(entry)
            paths[entry.id] = resolve_path(entry, manifest)
    return ClipPool(entries, sample_rate=sample_rate, max_seconds=max_seconds, paths=paths)


def clips_of_kinds(
    pool: ClipPool,
    kinds: Sequence[str],
    *,
    named: bool = False,
    max_seconds: float | None = None,
) -> list[ManifestEntry]:
    """Pool entries of the given kinds that are not longer than `max_seconds`.

    Args:
        pool: the pool.
        kinds: manifest kinds to keep ("sfx", "speech", ...; folder imports are "audio").
        named: keep only clips with a caption or a label (their sound can be named).
        max_seconds: length limit; `pool.max_seconds` by default. Clips of unknown duration pass.
    """
    limit = pool.max_seconds if max_seconds is None else max_seconds
    return [
        entry
        for entry in pool.entries
        if entry.kind in kinds
        and (entry.duration is None or entry.duration <= limit + 1e-6)
        and (not named or bool(entry.labels) or bool(entry.captions))
    ]


@dataclass(frozen=True)
class ClipsByLength:
    """Clips of one role sorted by manifest duration; clips without a duration kept apart.

    Attributes:
        durations: the known durations in seconds, ascending.
        entries: the clips with those durations, in the same order.
        unknown: clips whose manifest gives no duration (they pass every length query).
    """

    durations: list[float]
    entries: list[ManifestEntry]
    unknown: list[ManifestEntry]

    def __len__(self) -> int:
        return len(self.entries) + len(self.unknown)

    def between(self, shortest: float = 0.0, longest: float = float("inf")) -> list[ManifestEntry]:
        """Clips from `shortest` to `longest` seconds long (plus those of unknown length)."""
        low = bisect.bisect_left(self.durations, shortest - 1e-9)
        high = bisect.bisect_right(self.durations, longest + 1e-9)
        return self.entries[low:high] + self.unknown


def role_clips(pool: ClipPool, role: str, select: Callable[[ManifestEntry], bool]) -> ClipsByLength:
    """The pool's clips for which `select` is true, sorted by length, computed once per pool.

    Args:
        pool: the pool (the result is kept in `pool.memo`).
        role: a name for the selection, unique per `select` (e.g. "edit.event").
        select: which clips play the role.
    """
    key = (role, len(pool.entries), pool.max_seconds)
    if key not in pool.memo:
        chosen = [entry for entry in pool.entries if select(entry)]
        known = sorted((e for e in chosen if e.duration is not None),
                       key=lambda e: (e.duration, e.id))
        pool.memo[key] = ClipsByLength(
            durations=[float(e.duration) for e in known], entries=known,
            unknown=[e for e in chosen if e.duration is None],
        )
    return pool.memo[key]


def event_names(entry: ManifestEntry) -> list[str]:
    """Ways to name what a clip sounds like, true wherever the clip is placed.

    A clip with one label is named by that label (a noun phrase reads well in "Add {event}");
    a clip with several labels (several events, or events over a background) by its captions,
    which describe all of it; without captions, by its labels joined with "and". Captions that
    state times ("from 0.4 s to 1.1 s a hi-hat") are left out: the times stop being true once the
    clip moves.
    """
    captions = [c.strip() for c in entry.captions if c.strip() and not _TIMED_CAPTION.search(c)]
    labels = [label.strip() for label in entry.labels if label.strip()]
    if len(labels) == 1:
        return labels
    if captions:
        return captions
    return [" and ".join(labels)] if labels else []


def require_clips(candidates: Sequence[ManifestEntry], *, task: str, what: str, minimum: int = 1) -> None:
    """Raise a clear error when a pool holds fewer than `minimum` clips for a role.

    Args:
        candidates: the clips found for the role.
        task: the task name (for the message).
        what: the role in words, e.g. "captioned or labelled sfx/audio clips up to 10 s".
        minimum: how many the task needs.
    """
    if len(candidates) < minimum:
        raise UnisonoError(
            f"task {task} needs at least {minimum} {what} in the manifests but found "
            f"{len(candidates)}; add such clips or set the task's weight to 0."
        )

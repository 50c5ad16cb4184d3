"""`unisono data check`: find every problem in a manifest and its audio, without stopping.

Each problem is a `Problem(line, id, kind, message)`. Kinds:

- row problems: "malformed" (not JSON / not UTF-8 / not an object), "missing_field", "bad_type",
  "duplicate_id";
- file problems: "missing_file" (the clip, a stem or the scene file), "unreadable", "empty", "nan"
  (NaN or Inf samples), "silent" (RMS below -80 dBFS), "duration_mismatch" (more than 1 % or
  1 ms off), "sample_rate_mismatch";
- label problems: "event_outside" (an event or note outside [0, duration] or ending before it
  starts), "phonemes_not_monotone" (a phoneme ending before it starts, or starting before the
  previous one ends).

With `audio=False` files are only checked for existence, not decoded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from tqdm import tqdm

from unisono.audio.io import to_mono, validate_audio
from unisono.data.manifest import (
    ManifestEntry,
    ManifestLineError,
    iter_manifest_lines,
    parse_line,
    resolve_path,
)
from unisono.errors import UnisonoError

DURATION_REL_TOLERANCE = 0.01
DURATION_ABS_TOLERANCE = 0.001
SILENCE_THRESHOLD_DB = -80.0
# Label times may sit a hair past the clip end from rounding when they were written.
TIME_SLACK = 1e-3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one manifest line (or its files)."""

    line: int
    id: str | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.id})" if self.id else "")
        return f"{where}: {self.kind}: {self.message}"


@dataclass
class CheckReport:
    """Every problem found in a manifest, plus how many rows were read."""

    manifest: str
    rows: int = 0
    audio_checked: bool = True
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        """Number of problems per kind, sorted by kind."""
        return dict(sorted(Counter(problem.kind for problem in self.problems).items()))

    @property
    def bad_rows(self) -> int:
        """Number of distinct lines with at least one problem."""
        return len({problem.line for problem in self.problems})

    def summary(self) -> str:
        """A short human-readable summary (the last lines `unisono data check` prints)."""
        if self.ok:
            return f"{self.manifest}: {self.rows} rows, no problems"
        kinds = ", ".join(f"{kind}: {count}" for kind, count in self.counts.items())
        return (f"{self.manifest}: {self.rows} rows, {len(self.problems)} problems on "
                f"{self.bad_rows} rows ({kinds})")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {"manifest": self.manifest, "rows": self.rows, "audio_checked": self.audio_checked,
                "ok": self.ok, "counts": self.counts,
                "problems": [asdict(problem) for problem in self.problems]}


def check_manifest(path: str | Path, *, audio: bool = True, progress: bool = False) -> CheckReport:
    """Check every row of a manifest and the files it points to, reporting all problems.

    Args:
        path: the manifest (JSON Lines).
        audio: decode each clip to check it is readable, non-empty, finite, not silent, and
            matches the manifest's duration and sample rate; False only checks files exist.
        progress: show a tqdm progress bar over rows (on stderr).

    Returns:
        The report; `report.ok` is True when nothing is wrong.

    Raises:
        UnisonoError: the manifest file itself does not exist.
    """
    path = Path(path)
    report = CheckReport(manifest=str(path), audio_checked=audio)
    first_line: dict[str, int] = {}
    lines = iter_manifest_lines(path)
    for number, raw in tqdm(lines, desc="check", unit="row", disable=not progress):
        try:
            entry = parse_line(raw, number)
        except ManifestLineError as err:
            report.rows += 1
            report.problems.append(Problem(number, err.entry_id, err.kind, _strip_line(str(err))))
            continue
        if entry is None:
            continue
        report.rows += 1
        if entry.id in first_line:
            report.problems.append(Problem(
                number, entry.id, "duplicate_id",
                f"id {entry.id!r} already used on line {first_line[entry.id]}",
            ))
        else:
            first_line[entry.id] = number
        report.problems.extend(check_entry(entry, path, line=number, audio=audio))
    return report


def check_entry(
    entry: ManifestEntry, manifest_path: str | Path, *, line: int = 0, audio: bool = True
) -> list[Problem]:
    """All problems of one parsed entry: its files, its audio and its time labels."""
    problems: list[Problem] = []

    def add(kind: str, message: str) -> None:
        problems.append(Problem(line, entry.id, kind, message))

    clip = resolve_path(entry, manifest_path)
    duration = entry.duration
    if not clip.is_file():
        add("missing_file", f"audio file not found: {clip}")
    elif audio:
        measured = _check_audio(clip, entry, add)
        duration = duration if duration is not None else measured
    for name, stem in sorted(entry.stems.items()):
        if not resolve_path(stem, manifest_path).is_file():
            add("missing_file", f"stem {name!r} not found: {resolve_path(stem, manifest_path)}")
    if entry.scene is not None and not resolve_path(entry.scene, manifest_path).is_file():
        add("missing_file", f"scene file not found: {resolve_path(entry.scene, manifest_path)}")
    _check_times(entry, duration, add)
    return problems


def _check_audio(clip: Path, entry: ManifestEntry, add: Any) -> float | None:
    """Decode and validate one clip; returns its measured duration when readable."""
    if clip.stat().st_size == 0:
        add("empty", f"audio file is empty (0 bytes): {clip}")
        return None
    try:
        samples, sample_rate = sf.read(str(clip), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        add("unreadable", f"cannot decode {clip}: {err}")
        return None
    samples = to_mono(samples)
    # validate_audio tests empty, then NaN, then silence: the same order picks the kind here,
    # while the message keeps the project's wording.
    if samples.size == 0:
        kind = "empty"
    elif not bool(np.all(np.isfinite(samples))):
        kind = "nan"
    else:
        kind = "silent"
    try:
        validate_audio(samples, sample_rate, name=str(clip), allow_silent=False,
                       silence_threshold_db=SILENCE_THRESHOLD_DB)
    except UnisonoError as err:
        add(kind, str(err))
        if kind != "silent":
            return None
    measured = samples.shape[0] / sample_rate
    if entry.sample_rate is not None and entry.sample_rate != sample_rate:
        add("sample_rate_mismatch",
            f"manifest says {entry.sample_rate} Hz, file is {sample_rate} Hz")
    if entry.duration is not None:
        tolerance = max(DURATION_REL_TOLERANCE * measured, DURATION_ABS_TOLERANCE)
        if abs(entry.duration - measured) > tolerance:
            add("duration_mismatch",
                f"manifest says {entry.duration:.3f} s, file is {measured:.3f} s")
    return measured


def _check_times(entry: ManifestEntry, duration: float | None, add: Any) -> None:
    end = None if duration is None else duration + TIME_SLACK
    spans = [(f"event {event.event_class!r}", event.onset, event.offset) for event in entry.events]
    spans += [(f"note {note.pitch}", note.onset, note.offset) for note in entry.notes]
    for name, onset, offset in spans:
        if onset < -TIME_SLACK or offset < onset or (end is not None and offset > end):
            clip = f"[0, {duration:.3f}] s" if duration is not None else "the clip"
            add("event_outside", f"{name} at {onset:.3f}-{offset:.3f} s is outside {clip} "
                                 "or ends before it starts")
    previous_end = 0.0
    for index, phoneme in enumerate(entry.phonemes):
        if phoneme.end < phoneme.start or phoneme.start < previous_end - TIME_SLACK:
            add("phonemes_not_monotone",
                f"phoneme {index} {phoneme.phoneme!r} at {phoneme.start:.3f}-{phoneme.end:.3f} s "
                f"ends before it starts or overlaps the previous one (ending {previous_end:.3f} s)")
            break
        previous_end = phoneme.end
    if entry.phonemes and end is not None and entry.phonemes[-1].end > end:
        add("event_outside", f"the last phoneme ends at {entry.phonemes[-1].end:.3f} s, after "
                             f"the clip ({duration:.3f} s)")


def _strip_line(message: str) -> str:
    """The line number is already in the Problem; drop the 'line N: ' prefix of the message."""
    head, _, rest = message.partition(": ")
    return rest if head.startswith("line ") else message

"""Clip manifests: JSON Lines files with one labelled audio clip per line.

A line is a JSON object. Only `id` and `path` are required; every other field of `ManifestEntry`
is optional and omitted when written, so lines stay compact. Relative paths resolve against the
folder holding the manifest. Keys the schema does not know are kept in `extra` (written back as a
nested `extra` object) so that no information from an importer or a user is lost.

Example line::

    {"id": "train/dog_01", "path": "audio/dog_01.wav", "duration": 2.5, "sample_rate": 16000,
     "kind": "sfx", "captions": ["a dog barks twice"],
     "events": [{"class": "dog_bark", "onset": 0.1, "offset": 0.6}]}
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unisono.errors import UnisonoError

KINDS = ("sfx", "speech", "music", "singing", "scene", "audio")
GENDERS = ("female", "male")
SPLITS = ("train", "val", "test")


class ManifestLineError(UnisonoError):
    """One manifest line is unusable; `kind` is "malformed", "missing_field" or "bad_type"."""

    def __init__(self, message: str, *, line: int | None, kind: str, entry_id: str | None = None):
        super().__init__(message)
        self.line = line
        self.kind = kind
        self.entry_id = entry_id


@dataclass(frozen=True)
class Event:
    """A sound event inside a clip, in seconds from the clip start (JSON key "class")."""

    event_class: str
    onset: float
    offset: float

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.event_class, "onset": self.onset, "offset": self.offset}


@dataclass(frozen=True)
class Phoneme:
    """One phoneme with its start and end in seconds."""

    phoneme: str
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return {"phoneme": self.phoneme, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Note:
    """One note: MIDI pitch, onset and offset in seconds, optional MIDI velocity."""

    pitch: int
    onset: float
    offset: float
    velocity: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pitch": self.pitch, "onset": self.onset, "offset": self.offset}
        if self.velocity is not None:
            out["velocity"] = self.velocity
        return out


@dataclass
class ManifestEntry:
    """One clip of a manifest. See the module docstring for the file format."""

    id: str
    path: str
    duration: float | None = None
    sample_rate: int | None = None
    kind: str | None = None
    captions: list[str] = field(default_factory=list)
    transcript: str | None = None
    speaker: str | None = None
    gender: str | None = None
    language: str | None = None
    labels: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    phonemes: list[Phoneme] = field(default_factory=list)
    instrument: str | None = None
    notes: list[Note] = field(default_factory=list)
    key: str | None = None
    mode: str | None = None
    tempo: float | None = None
    stems: dict[str, str] = field(default_factory=dict)
    scene: str | None = None
    split: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in schema order; empty optional fields are left out."""
        out: dict[str, Any] = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None or (isinstance(value, list | dict) and not value):
                continue
            if spec.name in ("events", "phonemes", "notes"):
                value = [item.to_dict() for item in value]
            elif spec.name in ("stems", "extra"):
                value = {name: value[name] for name in sorted(value)}
            elif isinstance(value, list):
                value = list(value)
            out[spec.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, line: int | None = None) -> ManifestEntry:
        """Build an entry from a parsed JSON object, checking every field's type.

        Args:
            data: the JSON object of one line.
            line: its 1-based line number, used in error messages.

        Raises:
            ManifestLineError: a required field is missing or a field has the wrong type.
        """
        where = f"line {line}: " if line is not None else ""
        if not isinstance(data, dict):
            raise ManifestLineError(
                f"{where}expected a JSON object per line, got {type(data).__name__}",
                line=line, kind="malformed",
            )
        entry_id = data.get("id") if isinstance(data.get("id"), str) else None
        for name in ("id", "path"):
            if name not in data:
                raise ManifestLineError(
                    f"{where}missing required field {name!r}: every line needs 'id' and 'path'",
                    line=line, kind="missing_field", entry_id=entry_id,
                )
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for name, value in data.items():
            if name == "extra":
                if not isinstance(value, dict):
                    raise _type_error(where, "extra", "an object", value, line, entry_id)
                extra.update(value)
            elif name in _PARSERS:
                try:
                    values[name] = _PARSERS[name](value)
                except _FieldTypeError as err:
                    raise _type_error(where, name, err.expected, value, line, entry_id) from None
            else:
                extra[name] = value
        if not values["id"]:
            raise ManifestLineError(
                f"{where}'id' is empty: give every clip a unique non-empty id",
                line=line, kind="bad_type",
            )
        return cls(**values, extra=extra)


class _FieldTypeError(Exception):
    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def _type_error(
    where: str, name: str, expected: str, value: Any, line: int | None, entry_id: str | None
) -> ManifestLineError:
    shown = json.dumps(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return ManifestLineError(
        f"{where}field {name!r} must be {expected}, got {shown}", line=line, kind="bad_type",
        entry_id=entry_id,
    )


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _FieldTypeError("a string")
    return value


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _number(value: Any) -> float:
    # bool is an int subclass in Python, but `true` is never a valid time or tempo.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _FieldTypeError("a number")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _FieldTypeError("an integer")
    return value


def _optional(parse: Any) -> Any:
    return lambda value: None if value is None else parse(value)


def _choice(options: tuple[str, ...]) -> Any:
    expected = "one of " + ", ".join(repr(option) for option in options)

    def parse(value: Any) -> str | None:
        if value is not None and value not in options:
            raise _FieldTypeError(expected + " or null")
        return value

    return parse


def _string_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _FieldTypeError("a list of strings")
    return list(value)


def _object_list(build: Any, expected: str) -> Any:
    def parse(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _FieldTypeError(expected)
        try:
            return [build(item) for item in value]
        except (_FieldTypeError, KeyError, TypeError, AttributeError):
            raise _FieldTypeError(expected) from None

    return parse


def _event(item: dict[str, Any]) -> Event:
    return Event(_string(item["class"]), _number(item["onset"]), _number(item["offset"]))


def _phoneme(item: dict[str, Any]) -> Phoneme:
    return Phoneme(_string(item["phoneme"]), _number(item["start"]), _number(item["end"]))


def _note(item: dict[str, Any]) -> Note:
    velocity = item.get("velocity")
    return Note(
        _integer(item["pitch"]), _number(item["onset"]), _number(item["offset"]),
        None if velocity is None else _integer(velocity),
    )


def _stems(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(path, str) for path in value.values()):
        raise _FieldTypeError("an object mapping stem names to paths")
    return dict(value)


_PARSERS: dict[str, Any] = {
    "id": _string,
    "path": _string,
    "duration": _optional(_number),
    "sample_rate": _optional(_integer),
    "kind": _choice(KINDS),
    "captions": _string_list,
    "transcript": _optional_string,
    "speaker": _optional_string,
    "gender": _choice(GENDERS),
    "language": _optional_string,
    "labels": _string_list,
    "events": _object_list(_event, "a list of {class, onset, offset} objects"),
    "phonemes": _object_list(_phoneme, "a list of {phoneme, start, end} objects"),
    "instrument": _optional_string,
    "notes": _object_list(_note, "a list of {pitch, onset, offset, velocity?} objects"),
    "key": _optional_string,
    "mode": _optional_string,
    "tempo": _optional(_number),
    "stems": _stems,
    "scene": _optional_string,
    "split": _choice(SPLITS),
    "source": _optional_string,
}


def parse_line(text: str | bytes, line: int) -> ManifestEntry | None:
    """Parse one manifest line (text or raw UTF-8 bytes); blank lines give None.

    Raises:
        ManifestLineError: the line is not JSON, or not a valid entry (message names the line).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ManifestLineError(
                f"line {line}: not UTF-8 text ({err.reason} at byte {err.start}): re-save as UTF-8",
                line=line, kind="malformed",
            ) from None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ManifestLineError(
            f"line {line}: not valid JSON ({err.msg} at column {err.colno}): fix or delete the line",
            line=line, kind="malformed",
        ) from None
    return ManifestEntry.from_dict(data, line=line)


def iter_manifest_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, raw bytes) for every line of a manifest file.

    Lines stay bytes so that one badly encoded line is reported by `parse_line` with its number
    instead of aborting the whole file.
    """
    path = Path(path)
    if not path.is_file():
        raise UnisonoError(f"manifest not found: {path}; create it with `unisono data import`.")
    with path.open("rb") as handle:
        yield from enumerate(handle, start=1)


def iter_manifest(path: str | Path) -> Iterator[ManifestEntry]:
    """Stream the entries of a manifest, one line at a time.

    Raises:
        UnisonoError: at the first bad line (naming it) or duplicate id.
    """
    first_line: dict[str, int] = {}
    for number, text in iter_manifest_lines(path):
        try:
            entry = parse_line(text, number)
        except ManifestLineError as err:
            raise UnisonoError(f"{path}: {err}") from None
        if entry is None:
            continue
        if entry.id in first_line:
            raise UnisonoError(
                f"{path}: line {number}: duplicate id {entry.id!r} (first on line "
                f"{first_line[entry.id]}): ids must be unique within a manifest"
            )
        first_line[entry.id] = number
        yield entry


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    """Read every entry of a manifest (see `iter_manifest` for the errors raised)."""
    return list(iter_manifest(path))


def entry_to_line(entry: ManifestEntry) -> str:
    """One compact JSON line (no newline) with keys in schema order."""
    return json.dumps(entry.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_manifest(path: str | Path, entries: Iterable[ManifestEntry]) -> Path:
    """Write entries atomically: a temp file in the same folder, then `os.replace`.

    A reader never sees a half-written manifest, even if the writer is killed.

    Raises:
        UnisonoError: duplicate ids, or a value JSON cannot hold (NaN, Inf).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            for entry in entries:
                if entry.id in seen:
                    raise UnisonoError(f"duplicate id {entry.id!r}: ids must be unique in a manifest")
                seen.add(entry.id)
                try:
                    handle.write(entry_to_line(entry) + "\n")
                except ValueError as err:
                    raise UnisonoError(
                        f"entry {entry.id!r} cannot be written as JSON ({err}): replace NaN/Inf values"
                    ) from None
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def resolve_path(entry: ManifestEntry | str, manifest_path: str | Path) -> Path:
    """The file an entry (or one of its stem / scene paths) points to.

    Absolute paths are returned as they are; relative ones resolve against the manifest's folder,
    never against the working directory.
    """
    raw = Path(entry.path if isinstance(entry, ManifestEntry) else entry).expanduser()
    if raw.is_absolute():
        return raw
    return Path(manifest_path).expanduser().absolute().parent / raw


def relative_to_manifest(file: str | Path, manifest_path: str | Path) -> str:
    """The path to write for `file`: relative (POSIX separators) when it lies under the manifest's
    folder, else absolute, so that the manifest can be moved together with its data."""
    file = Path(file).expanduser().absolute()
    folder = Path(manifest_path).expanduser().absolute().parent
    try:
        return file.relative_to(folder).as_posix()
    except ValueError:
        return file.as_posix()

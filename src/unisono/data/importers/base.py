"""Shared importer types and helpers, and the generic `folder` importer.

An importer is a function `(root, options) -> ImportResult` that reads one dataset layout and
returns entries with absolute paths; rows whose audio is missing are listed in `skipped` with
the reason instead of failing the import.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from unisono.audio.io import SUPPORTED_SUFFIXES
from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError


@dataclass
class ImportResult:
    """What an importer found: the entries, and every row it had to skip with the reason."""

    entries: list[ManifestEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportOptions:
    """Options some importers read (the CLI passes them all; the others ignore them)."""

    csv: Path | None = None


@dataclass(frozen=True)
class Importer:
    """A named reader of one dataset layout."""

    name: str
    description: str
    collect: Callable[[Path, ImportOptions], ImportResult]

# --- shared helpers ---------------------------------------------------------------------------


def audio_files(root: Path) -> list[Path]:
    """Every audio file under root, in sorted order."""
    return sorted(
        path for path in root.rglob("*")
        if path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file()
    )


def read_csv(path: Path, *, required: Iterable[str]) -> list[dict[str, str]]:
    """Rows of a CSV with a header, checking the named columns exist."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [name for name in required if name not in columns]
            if missing:
                raise UnisonoError(
                    f"{path} lacks the column(s) {', '.join(missing)} (found: {', '.join(columns)})"
                )
            return [dict(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as err:
        raise UnisonoError(f"cannot parse CSV {path} ({err}); re-save it as UTF-8 CSV.") from None


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").strip()


SPLIT_WORDS = {"train": "train", "training": "train", "development": "train", "dev": "val",
                "val": "val", "valid": "val", "validation": "val", "eval": "test",
                "evaluation": "test", "test": "test"}


# --- generic folder ---------------------------------------------------------------------------

_FILE_COLUMNS = ("file", "path", "file_name", "filename")


def import_folder(root: Path, options: ImportOptions) -> ImportResult:
    """Any folder of audio files. Without a CSV every audio file is a clip, labelled with its
    parent folder's name. With `--csv`, its rows name the clips: a `file`/`path` column (relative
    to ROOT, else to the CSV's folder) and optional `caption`, `text`/`transcript`, `label`
    (several separated by `;`) and `speaker` columns; rows of one file are grouped."""
    if options.csv is None:
        result = ImportResult()
        files = audio_files(root)
        stems = [path.relative_to(root).with_suffix("").as_posix() for path in files]
        stem_counts = Counter(stems)
        for audio, stem in zip(files, stems, strict=True):
            relative = audio.relative_to(root)
            # `a.wav` and `a.flac` side by side keep their suffix so that ids stay unique.
            clip_id = stem if stem_counts[stem] == 1 else relative.as_posix()
            labels = [relative.parent.name] if len(relative.parts) > 1 else []
            result.entries.append(ManifestEntry(
                id=clip_id, path=str(audio), kind="audio", labels=labels, source=root.name,
            ))
        return result
    return _folder_from_csv(root, options.csv)


def _folder_from_csv(root: Path, table: Path) -> ImportResult:
    if not table.is_file():
        raise UnisonoError(f"CSV not found: {table}")
    rows = read_csv(table, required=())
    columns = list(rows[0]) if rows else []
    file_column = next((name for name in _FILE_COLUMNS if name in columns), None)
    if file_column is None:
        raise UnisonoError(f"{table} needs a 'file' or 'path' column naming each audio file")
    text_column = next((name for name in ("transcript", "text") if name in columns), None)
    grouped: dict[str, ManifestEntry] = {}
    result = ImportResult()
    for number, row in enumerate(rows, start=2):
        name = (row[file_column] or "").strip()
        audio = next((folder / name for folder in (root, table.parent)
                      if name and (folder / name).is_file()), None)
        if audio is None:
            result.skipped.append(f"{table.name} row {number}: no audio file {name!r}")
            continue
        try:
            clip_id = audio.relative_to(root).with_suffix("").as_posix()
        except ValueError:
            clip_id = Path(name).with_suffix("").as_posix()
        entry = grouped.setdefault(clip_id, ManifestEntry(
            id=clip_id, path=str(audio), kind="audio", source=root.name,
        ))
        caption = (row.get("caption") or "").strip()
        if caption and caption not in entry.captions:
            entry.captions.append(caption)
        for label in (row.get("label") or "").split(";"):
            if label.strip() and label.strip() not in entry.labels:
                entry.labels.append(label.strip())
        if text_column and (row.get(text_column) or "").strip():
            entry.transcript = row[text_column].strip()
            entry.kind = "speech"
        if (row.get("speaker") or "").strip():
            entry.speaker = row["speaker"].strip()
    result.entries.extend(grouped.values())
    return result


"""Dataset importers: turn a public dataset's folder layout into manifest entries.

Each importer reads the layout the dataset ships with (documented on its function) and returns
entries with absolute paths; `import_dataset` then sorts them by id, applies the limit, probes
duration and sample rate with `soundfile.info`, and rewrites paths relative to the manifest.
Rows whose audio is missing (or unreadable) are not fatal: they are counted in
`ImportResult.skipped` with the reason.
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import soundfile as sf

from unisono.audio.io import SUPPORTED_SUFFIXES
from unisono.data.manifest import ManifestEntry, relative_to_manifest
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


def import_dataset(
    name: str,
    root: str | Path,
    manifest_path: str | Path,
    *,
    limit: int | None = None,
    probe: bool = True,
    csv_path: str | Path | None = None,
) -> ImportResult:
    """Read dataset `name` under `root` into entries for a manifest at `manifest_path`.

    Args:
        name: a key of `IMPORTERS`.
        root: the dataset's top folder.
        manifest_path: where the manifest will be written; paths are made relative to its folder
            when the audio lies under it, else absolute.
        limit: keep only the first `limit` entries in id order.
        probe: read duration and sample rate from each file's header (fast).
        csv_path: the optional CSV of the `folder` importer.

    Returns:
        The entries sorted by id, and the skipped rows.
    """
    if name not in IMPORTERS:
        raise UnisonoError(f"unknown dataset format {name!r}; choose one of {', '.join(IMPORTERS)}")
    if csv_path is not None and name != "folder":
        raise UnisonoError(f"--csv only applies to the 'folder' format, not {name!r}; drop it.")
    if limit is not None and limit < 1:
        raise UnisonoError(f"--limit must be a positive number of clips, got {limit}")
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise UnisonoError(f"dataset folder not found: {root}; give the folder you unpacked.")
    options = ImportOptions(csv=Path(csv_path).expanduser().absolute() if csv_path else None)
    found = IMPORTERS[name].collect(root, options)
    entries = sorted(found.entries, key=lambda entry: entry.id)
    for previous, entry in zip(entries, entries[1:], strict=False):
        if previous.id == entry.id:
            raise UnisonoError(f"{name} importer produced the id {entry.id!r} twice under {root}")
    if limit is not None:
        entries = entries[:limit]
    result = ImportResult(skipped=list(found.skipped))
    for entry in entries:
        if probe:
            try:
                info = sf.info(entry.path)
            except (sf.LibsndfileError, RuntimeError) as err:
                result.skipped.append(f"{entry.id}: unreadable audio {entry.path} ({err})")
                continue
            entry = replace(entry, duration=info.frames / info.samplerate, sample_rate=info.samplerate)
        result.entries.append(replace(entry, path=relative_to_manifest(entry.path, manifest_path)))
    return result


# --- shared helpers ---------------------------------------------------------------------------


def _audio_files(root: Path) -> list[Path]:
    """Every audio file under root, in sorted order."""
    return sorted(
        path for path in root.rglob("*")
        if path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file()
    )


def _read_csv(path: Path, *, required: Iterable[str]) -> list[dict[str, str]]:
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


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").strip()


_SPLIT_WORDS = {"train": "train", "training": "train", "development": "train", "dev": "val",
                "val": "val", "valid": "val", "validation": "val", "eval": "test",
                "evaluation": "test", "test": "test"}


# --- AudioCaps --------------------------------------------------------------------------------


def import_audiocaps(root: Path, options: ImportOptions) -> ImportResult:
    """AudioCaps: `{train,val,test}.csv` (audiocap_id, youtube_id, start_time, caption) in ROOT or
    ROOT/dataset, audio anywhere under ROOT named `{youtube_id}`, `Y{youtube_id}`,
    `{youtube_id}_{start_time}` or `{audiocap_id}` (any supported suffix), preferably in a folder
    named after the split. Captions of one clip (same youtube_id and start) are grouped."""
    by_stem: dict[str, list[Path]] = {}
    for path in _audio_files(root):
        by_stem.setdefault(path.stem, []).append(path)
    result = ImportResult()
    found_csv = False
    for split in ("train", "val", "test"):
        table = next((folder / f"{split}.csv" for folder in (root, root / "dataset")
                      if (folder / f"{split}.csv").is_file()), None)
        if table is None:
            continue
        found_csv = True
        clips: dict[tuple[str, str], list[tuple[int, str]]] = {}
        rows = _read_csv(table, required=("audiocap_id", "youtube_id", "start_time", "caption"))
        for row in rows:
            clip = (row["youtube_id"], _start_label(row["start_time"]))
            clips.setdefault(clip, []).append((_int_or_zero(row["audiocap_id"]), row["caption"]))
        for (youtube_id, start), captions in clips.items():
            captions.sort()
            names = [youtube_id, f"Y{youtube_id}", f"{youtube_id}_{start}"]
            names += [str(cap_id) for cap_id, _ in captions]
            audio = _pick(by_stem, names, split, root)
            clip_id = f"{split}/{youtube_id}_{start}"
            if audio is None:
                result.skipped.append(f"{clip_id}: no audio file ({len(captions)} caption rows)")
                continue
            extra: dict[str, object] = {"youtube_id": youtube_id, "start_time": start,
                                        "audiocap_ids": [cap_id for cap_id, _ in captions]}
            with contextlib.suppress(ValueError):
                extra["start_time"] = float(start)
            result.entries.append(ManifestEntry(
                id=clip_id, path=str(audio), kind="audio", split=split, source="audiocaps",
                captions=[caption.strip() for _, caption in captions], extra=extra,
            ))
    if not found_csv:
        raise UnisonoError(f"no AudioCaps train.csv / val.csv / test.csv in {root} or {root}/dataset")
    return result


def _start_label(text: str) -> str:
    """'30', '30.0' and '30.000' are one start time; written without a trailing '.0'."""
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    return str(int(value)) if value.is_integer() else str(value)


def _int_or_zero(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _pick(by_stem: dict[str, list[Path]], names: list[str], split: str, root: Path) -> Path | None:
    """The first name that has a file; among several files, prefer one under a split folder."""
    for name in names:
        paths = by_stem.get(name)
        if paths:
            in_split = [path for path in paths if any(
                _SPLIT_WORDS.get(part.lower()) == split for part in path.relative_to(root).parts)]
            return (in_split or paths)[0]
    return None


# --- Clotho -----------------------------------------------------------------------------------

_CLOTHO_SPLITS = {"development": "train", "validation": "val", "evaluation": "test"}


def import_clotho(root: Path, options: ImportOptions) -> ImportResult:
    """Clotho v2: `clotho_captions_{development,validation,evaluation}.csv` (file_name,
    caption_1..caption_5) anywhere under ROOT, audio in `development/`, `validation/`,
    `evaluation/` (found anywhere under ROOT if not directly there)."""
    tables = {part: sorted(root.rglob(f"clotho_captions_{part}.csv")) for part in _CLOTHO_SPLITS}
    if not any(tables.values()):
        raise UnisonoError(f"no clotho_captions_{{development,validation,evaluation}}.csv under {root}")
    by_name: dict[str, list[Path]] = {}
    for path in _audio_files(root):
        by_name.setdefault(path.name, []).append(path)
    result = ImportResult()
    for part, split in _CLOTHO_SPLITS.items():
        for table in tables[part][:1]:
            for row in _read_csv(table, required=("file_name",)):
                name = row["file_name"]
                captions = [row[f"caption_{i}"].strip() for i in range(1, 6)
                            if (row.get(f"caption_{i}") or "").strip()]
                clip_id = f"{part}/{Path(name).stem}"
                direct = root / part / name
                candidates = [p for p in by_name.get(name, []) if part in p.relative_to(root).parts]
                audio = direct if direct.is_file() else (candidates[0] if candidates else None)
                if audio is None:
                    result.skipped.append(f"{clip_id}: no audio file {part}/{name}")
                    continue
                result.entries.append(ManifestEntry(
                    id=clip_id, path=str(audio), kind="audio", captions=captions, split=split,
                    source="clotho",
                ))
    return result


# --- LJSpeech ---------------------------------------------------------------------------------


def import_ljspeech(root: Path, options: ImportOptions) -> ImportResult:
    """LJSpeech-1.1: `metadata.csv` with `id|transcript|normalized transcript` lines (no CSV
    quoting: transcripts contain quotes) and `wavs/{id}.wav`. One female speaker, "LJ"."""
    metadata = root / "metadata.csv"
    if not metadata.is_file():
        raise UnisonoError(f"no metadata.csv in {root}; give the LJSpeech-1.1 folder.")
    result = ImportResult()
    for number, line in enumerate(metadata.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2:
            raise UnisonoError(f"{metadata}:{number}: expected 'id|transcript|normalized'")
        clip_id, raw = fields[0].strip(), fields[1].strip()
        normalized = fields[2].strip() if len(fields) > 2 and fields[2].strip() else raw
        audio = root / "wavs" / f"{clip_id}.wav"
        if not audio.is_file():
            result.skipped.append(f"{clip_id}: no audio file wavs/{clip_id}.wav")
            continue
        result.entries.append(ManifestEntry(
            id=clip_id, path=str(audio), kind="speech", transcript=normalized, speaker="LJ",
            gender="female", language="en", source="ljspeech",
            extra={"original_transcript": raw} if raw != normalized else {},
        ))
    return result


# --- LibriTTS ---------------------------------------------------------------------------------

_GENDER_LETTERS = {"F": "female", "M": "male"}


def import_libritts(root: Path, options: ImportOptions) -> ImportResult:
    """LibriTTS / LibriTTS-R: `{subset}/{speaker}/{chapter}/{utt}.wav` with `{utt}.normalized.txt`
    (transcript) and `{utt}.original.txt`; `SPEAKERS.txt` (`ID |SEX| SUBSET |MINUTES| NAME`, `;`
    comments) gives genders. Subsets `train-*`, `dev-*`, `test-*` map to splits."""
    genders: dict[str, str] = {}
    speakers_file = root / "SPEAKERS.txt"
    if speakers_file.is_file():
        for line in speakers_file.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = [part.strip() for part in line.split("|")]
            if line.startswith(";") or len(fields) < 2:
                continue
            if fields[1].upper() in _GENDER_LETTERS:
                genders[fields[0]] = _GENDER_LETTERS[fields[1].upper()]
    result = ImportResult()
    for audio in _audio_files(root):
        parts = audio.relative_to(root).parts
        if len(parts) < 3 or audio.suffix.lower() != ".wav":
            continue
        speaker, chapter = parts[-3], parts[-2]
        if not audio.stem.startswith(f"{speaker}_{chapter}_"):
            continue
        normalized = audio.with_name(audio.stem + ".normalized.txt")
        original = audio.with_name(audio.stem + ".original.txt")
        if not normalized.is_file():
            result.skipped.append(f"{audio.stem}: no transcript {normalized.name}")
            continue
        transcript = _read_text(normalized)
        subset = parts[-4] if len(parts) >= 4 else None
        extra: dict[str, object] = {"chapter": chapter}
        if subset:
            extra["subset"] = subset
        if original.is_file() and _read_text(original) != transcript:
            extra["original_transcript"] = _read_text(original)
        result.entries.append(ManifestEntry(
            id=audio.stem, path=str(audio), kind="speech", transcript=transcript, speaker=speaker,
            gender=genders.get(speaker), language="en", split=_subset_split(subset),
            source="libritts", extra=extra,
        ))
    return result


def _subset_split(subset: str | None) -> str | None:
    if subset is None:
        return None
    return _SPLIT_WORDS.get(subset.split("-")[0].lower())


# --- VCTK -------------------------------------------------------------------------------------

_VCTK_NEW = re.compile(r"^(?P<speaker>[ps]\d+)_(?P<utt>\d+)_mic(?P<mic>[12])$")
_VCTK_OLD = re.compile(r"^(?P<speaker>[ps]\d+)_(?P<utt>\d+)$")


def import_vctk(root: Path, options: ImportOptions) -> ImportResult:
    """VCTK 0.92: `wav48_silence_trimmed/{spk}/{spk}_{utt}_mic1.flac` (mic1 only; mic2 is the same
    take), or the older `wav48/{spk}/{spk}_{utt}.wav`; `txt/{spk}/{spk}_{utt}.txt`; and
    `speaker-info.txt` (`ID AGE GENDER ACCENTS REGION`, ids with or without the `p`)."""
    info = _vctk_speakers(root / "speaker-info.txt")
    folders = [root / "wav48_silence_trimmed", root / "wav48"]
    if not any(folder.is_dir() for folder in folders):
        raise UnisonoError(f"no wav48_silence_trimmed/ or wav48/ folder in {root}; give the VCTK root")
    result = ImportResult()
    for folder in folders:
        if not folder.is_dir():
            continue
        for audio in _audio_files(folder):
            match = _VCTK_NEW.match(audio.stem) or _VCTK_OLD.match(audio.stem)
            if match is None or match.groupdict().get("mic", "1") != "1":
                continue
            speaker, utt = match["speaker"], match["utt"]
            clip_id = f"{speaker}_{utt}"
            text = root / "txt" / speaker / f"{clip_id}.txt"
            if not text.is_file():
                result.skipped.append(f"{clip_id}: no transcript txt/{speaker}/{clip_id}.txt")
                continue
            gender, accent, age = info.get(speaker, (None, None, None))
            extra: dict[str, object] = {}
            if accent:
                extra["accent"] = accent
            if age is not None:
                extra["age"] = age
            result.entries.append(ManifestEntry(
                id=clip_id, path=str(audio), kind="speech", transcript=_read_text(text),
                speaker=speaker, gender=gender, language="en", source="vctk", extra=extra,
            ))
    return result


def _vctk_speakers(path: Path) -> dict[str, tuple[str | None, str | None, int | None]]:
    """speaker -> (gender, accent, age) from speaker-info.txt; a missing file gives {}."""
    if not path.is_file():
        return {}
    speakers: dict[str, tuple[str | None, str | None, int | None]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[0].upper() == "ID":
            continue
        speaker = fields[0] if fields[0][0].isalpha() else f"p{fields[0]}"
        age = int(fields[1]) if fields[1].isdigit() else None
        accent = fields[3] if len(fields) > 3 else None
        speakers[speaker] = (_GENDER_LETTERS.get(fields[2].upper()), accent, age)
    return speakers


# --- generic folder ---------------------------------------------------------------------------

_FILE_COLUMNS = ("file", "path", "file_name", "filename")


def import_folder(root: Path, options: ImportOptions) -> ImportResult:
    """Any folder of audio files. Without a CSV every audio file is a clip, labelled with its
    parent folder's name. With `--csv`, its rows name the clips: a `file`/`path` column (relative
    to ROOT, else to the CSV's folder) and optional `caption`, `text`/`transcript`, `label`
    (several separated by `;`) and `speaker` columns; rows of one file are grouped."""
    if options.csv is None:
        result = ImportResult()
        files = _audio_files(root)
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
    rows = _read_csv(table, required=())
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


IMPORTERS: dict[str, Importer] = {
    "audiocaps": Importer("audiocaps", "AudioCaps CSVs + downloaded clips", import_audiocaps),
    "clotho": Importer("clotho", "Clotho v2 caption CSVs + audio folders", import_clotho),
    "ljspeech": Importer("ljspeech", "LJSpeech-1.1 metadata.csv + wavs/", import_ljspeech),
    "libritts": Importer("libritts", "LibriTTS(-R) subset/speaker/chapter folders", import_libritts),
    "vctk": Importer("vctk", "VCTK 0.92 (or 0.80) wav48 + txt + speaker-info", import_vctk),
    "folder": Importer("folder", "any audio folder, optional --csv with file/caption columns",
                       import_folder),
}

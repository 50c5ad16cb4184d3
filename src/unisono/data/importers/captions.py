"""Importers of captioned audio datasets: AudioCaps, Clotho, WavCaps and MusicCaps.

WavCaps entries get the id `{subset}/{file stem}` (subset = the folder of its JSON file, e.g.
`FreeSound/180913`), because the subsets' numeric ids overlap. MusicCaps entries get the YouTube
id, labels from `aspect_list` and split "test" for the AudioSet eval clips.
"""

from __future__ import annotations

import ast
import contextlib
import json
from pathlib import Path

from unisono.data.importers.base import (
    SPLIT_WORDS,
    ImportOptions,
    ImportResult,
    audio_files,
    read_csv,
)
from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError

# --- AudioCaps --------------------------------------------------------------------------------


def import_audiocaps(root: Path, options: ImportOptions) -> ImportResult:
    """AudioCaps: `{train,val,test}.csv` (audiocap_id, youtube_id, start_time, caption) in ROOT or
    ROOT/dataset, audio anywhere under ROOT named `{youtube_id}`, `Y{youtube_id}`,
    `{youtube_id}_{start_time}` or `{audiocap_id}` (any supported suffix), preferably in a folder
    named after the split. Captions of one clip (same youtube_id and start) are grouped."""
    by_stem: dict[str, list[Path]] = {}
    for path in audio_files(root):
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
        rows = read_csv(table, required=("audiocap_id", "youtube_id", "start_time", "caption"))
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
                SPLIT_WORDS.get(part.lower()) == split for part in path.relative_to(root).parts)]
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
    for path in audio_files(root):
        by_name.setdefault(path.name, []).append(path)
    result = ImportResult()
    for part, split in _CLOTHO_SPLITS.items():
        for table in tables[part][:1]:
            for row in read_csv(table, required=("file_name",)):
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



# --- WavCaps ----------------------------------------------------------------------------------

# JSON file -> subset, and the folder-name prefixes that hold each subset's audio once unzipped.
_WAVCAPS_JSONS = {"as_final.json": "AudioSet_SL", "bbc_final.json": "BBC_Sound_Effects",
                  "fsd_final.json": "FreeSound", "sb_final.json": "SoundBible"}
_WAVCAPS_FOLDERS = {"AudioSet_SL": "audioset", "BBC_Sound_Effects": "bbc",
                    "FreeSound": "freesound", "SoundBible": "soundbible"}
_AUDIO_ID_SUFFIXES = (".wav", ".flac")


def import_wavcaps(root: Path, options: ImportOptions) -> ImportResult:
    """WavCaps: `json_files/{AudioSet_SL/as_final, BBC_Sound_Effects/bbc_final,
    FreeSound/fsd_final, SoundBible/sb_final}.json` (anywhere under ROOT), each
    `{"data": [{"id", "caption", "duration"?, ...}]}`, and the unzipped audio (flac, or wav)
    named `{id}` anywhere under ROOT, preferably in a folder named after the subset.

    Quirks: AudioSet_SL ids carry a `.wav` suffix (`Yb0RFKhbpFJA.wav`) while the files are
    `Yb0RFKhbpFJA.flac`; FreeSound, BBC and SoundBible ids are bare numbers whose ranges overlap,
    hence ids `{subset}/{stem}` and the preference for the subset's folder. FreeSound `tags` and
    BBC `category` (a Python-list string) become labels; `description` and SoundBible's `title`
    go to `extra`. The JSON `duration` is kept when probing is off.
    """
    tables = {name: sorted(root.rglob(name)) for name in _WAVCAPS_JSONS}
    if not any(tables.values()):
        raise UnisonoError(f"no WavCaps {', '.join(_WAVCAPS_JSONS)} under {root}; give the folder "
                           "holding json_files/ and the unzipped audio.")
    by_stem: dict[str, list[Path]] = {}
    for path in audio_files(root):
        by_stem.setdefault(path.stem, []).append(path)
    result = ImportResult()
    for name, subset in _WAVCAPS_JSONS.items():
        for table in tables[name][:1]:
            seen: set[str] = set()
            for number, row in enumerate(_wavcaps_rows(table), start=1):
                stem = _strip_audio_suffix(str(row.get("id", "")).strip())
                clip_id = f"{subset}/{stem}"
                caption = str(row.get("caption") or "").strip()
                if not stem or not caption:
                    result.skipped.append(f"{table.name} item {number}: no id or no caption")
                    continue
                if clip_id in seen:
                    result.skipped.append(f"{clip_id}: listed twice in {table.name}")
                    continue
                seen.add(clip_id)
                audio = _wavcaps_audio(by_stem.get(stem, []), subset, root)
                if audio is None:
                    result.skipped.append(f"{clip_id}: no audio file {stem}.flac / {stem}.wav")
                    continue
                result.entries.append(_wavcaps_entry(clip_id, audio, subset, caption, row))
    return result


def _wavcaps_rows(table: Path) -> list[dict]:
    try:
        document = json.loads(table.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UnisonoError(f"cannot parse WavCaps JSON {table} ({err}); download it again.") from None
    rows = document.get("data") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise UnisonoError(f"{table} is not a WavCaps file: expected {{\"data\": [...]}} at the top")
    return [row for row in rows if isinstance(row, dict)]


def _strip_audio_suffix(name: str) -> str:
    for suffix in _AUDIO_ID_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _wavcaps_audio(paths: list[Path], subset: str, root: Path) -> Path | None:
    """The file in the subset's folder; else one outside every subset's folder (never one of
    another subset: their numeric ids collide)."""
    def subsets_of(path: Path) -> set[str]:
        folders = [part.lower() for part in path.relative_to(root).parts[:-1]]
        return {name for name, prefix in _WAVCAPS_FOLDERS.items()
                if any(folder.startswith(prefix) for folder in folders)}

    marked = [(path, subsets_of(path)) for path in paths]
    own = [path for path, subsets in marked if subset in subsets]
    neutral = [path for path, subsets in marked if not subsets]
    return (own or neutral or [None])[0]


def _wavcaps_entry(clip_id: str, audio: Path, subset: str, caption: str,
                   row: dict) -> ManifestEntry:
    labels: list[str] = []
    tags = row.get("tags")
    if isinstance(tags, list):
        labels += [str(tag).strip() for tag in tags if str(tag).strip()]
    category = row.get("category")
    if isinstance(category, str):
        category = _python_list(category)
    if isinstance(category, list):
        labels += [str(item).strip() for item in category if str(item).strip()]
    extra: dict[str, object] = {"subset": subset}
    for key in ("title", "description"):
        if isinstance(row.get(key), str) and row[key].strip():
            extra[key] = row[key].strip()
    duration = row.get("duration")
    return ManifestEntry(
        id=clip_id, path=str(audio), kind="audio", captions=[caption], labels=labels,
        duration=float(duration) if isinstance(duration, int | float) else None,
        source="wavcaps", extra=extra,
    )


def _python_list(text: str) -> list | None:
    """A Python-list literal such as "['guitar', 'slow tempo']" (never evaluated as code)."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, list) else None


# --- MusicCaps --------------------------------------------------------------------------------

_MUSICCAPS_CSV = "musiccaps-public.csv"
_TRUE_WORDS = {"true", "1", "yes"}


def import_musiccaps(root: Path, options: ImportOptions) -> ImportResult:
    """MusicCaps: `musiccaps-public.csv` (ytid, start_s, end_s, audioset_positive_labels,
    aspect_list, caption, author_id, is_balanced_subset, is_audioset_eval) in ROOT or under it,
    and the 10 s clips anywhere under ROOT (e.g. `audio/`) named `{ytid}`, `{ytid}_{start}`,
    `{ytid}_{start}_{end}` or `[{ytid}]-[{start}-{end}]`. Labels are the `aspect_list` (a
    Python-list string, parsed as a literal); split "test" for AudioSet eval clips, else
    "train". A row whose aspect_list cannot be parsed is skipped and reported."""
    direct = root / _MUSICCAPS_CSV
    table = direct if direct.is_file() else next(iter(sorted(root.rglob(_MUSICCAPS_CSV))), None)
    if table is None:
        raise UnisonoError(f"no {_MUSICCAPS_CSV} in or under {root}; put the CSV next to the audio.")
    by_stem: dict[str, list[Path]] = {}
    for path in audio_files(root):
        by_stem.setdefault(path.stem, []).append(path)
    rows = read_csv(table, required=("ytid", "start_s", "end_s", "aspect_list", "caption",
                                     "is_audioset_eval"))
    result = ImportResult()
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        ytid = row["ytid"].strip()
        start, end = _start_label(row["start_s"]), _start_label(row["end_s"])
        if ytid in seen:
            result.skipped.append(f"{ytid}: listed twice in {table.name} (row {number})")
            continue
        seen.add(ytid)
        aspects = _python_list(row["aspect_list"])
        if aspects is None:
            result.skipped.append(f"{ytid}: aspect_list in row {number} is not a Python list")
            continue
        names = [ytid, f"{ytid}_{start}", f"{ytid}_{start}_{end}", f"[{ytid}]-[{start}-{end}]"]
        audio = next((by_stem[name][0] for name in names if name in by_stem), None)
        if audio is None:
            result.skipped.append(f"{ytid}: no audio file {ytid}.wav or {ytid}_{start}.wav")
            continue
        extra: dict[str, object] = {"start_time": start, "end_time": end}
        for key, text in (("start_time", start), ("end_time", end)):
            with contextlib.suppress(ValueError):
                extra[key] = float(text)
        audioset = [mid.strip() for mid in (row.get("audioset_positive_labels") or "").split(",")]
        if any(audioset):
            extra["audioset_labels"] = [mid for mid in audioset if mid]
        if (row.get("author_id") or "").strip():
            extra["author_id"] = row["author_id"].strip()
        if (row.get("is_balanced_subset") or "").strip():
            extra["is_balanced_subset"] = row["is_balanced_subset"].strip().lower() in _TRUE_WORDS
        is_eval = row["is_audioset_eval"].strip().lower() in _TRUE_WORDS
        result.entries.append(ManifestEntry(
            id=ytid, path=str(audio), kind="music", captions=[row["caption"].strip()],
            labels=[str(aspect).strip() for aspect in aspects if str(aspect).strip()],
            split="test" if is_eval else "train", source="musiccaps", extra=extra,
        ))
    return result

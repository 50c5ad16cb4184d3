"""Importers of speech datasets: LJSpeech, LibriTTS, VCTK and VoiceBank-DEMAND.

VoiceBank-DEMAND gives one entry per noisy file; its clean counterpart, the target of the speech
enhancement (`se`) task, is recorded as the stem `stems["clean"]` (a path, made relative to the
manifest like `path`), and the noise type and SNR from the log files, when present, go to
`extra["noise"]` and `extra["snr_db"]`.
"""

from __future__ import annotations

import re
from pathlib import Path

from unisono.data.importers.base import (
    SPLIT_WORDS,
    ImportOptions,
    ImportResult,
    audio_files,
    read_text,
)
from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError

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
    for audio in audio_files(root):
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
        transcript = read_text(normalized)
        subset = parts[-4] if len(parts) >= 4 else None
        extra: dict[str, object] = {"chapter": chapter}
        if subset:
            extra["subset"] = subset
        if original.is_file() and read_text(original) != transcript:
            extra["original_transcript"] = read_text(original)
        result.entries.append(ManifestEntry(
            id=audio.stem, path=str(audio), kind="speech", transcript=transcript, speaker=speaker,
            gender=genders.get(speaker), language="en", split=_subset_split(subset),
            source="libritts", extra=extra,
        ))
    return result


def _subset_split(subset: str | None) -> str | None:
    if subset is None:
        return None
    return SPLIT_WORDS.get(subset.split("-")[0].lower())


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
        for audio in audio_files(folder):
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
                id=clip_id, path=str(audio), kind="speech", transcript=read_text(text),
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



# --- VoiceBank-DEMAND -------------------------------------------------------------------------

_NOISY_FOLDER = re.compile(r"^noisy_(?P<set>trainset_\d+spk|testset)_wav$")


def import_voicebank_demand(root: Path, options: ImportOptions) -> ImportResult:
    """VoiceBank-DEMAND (Valentini et al.): `noisy_trainset_28spk_wav/` (or `_56spk_`) and
    `noisy_testset_wav/` beside their `clean_*` twins, transcripts in `trainset_28spk_txt/` and
    `testset_txt/`, optional `logfiles/log_{trainset_28spk,testset}.txt` (`utt noise snr`
    lines). The folders may sit directly in ROOT or deeper.

    One entry per noisy file, id = utterance (`p232_001`), speaker = its prefix, the clean file
    as `stems["clean"]`. A noisy file without its clean twin is skipped (it is no enhancement
    pair); one without a transcript is kept with `transcript` None.
    """
    noisy_folders = sorted(path for path in root.rglob("noisy_*_wav")
                           if path.is_dir() and _NOISY_FOLDER.match(path.name))
    if not noisy_folders:
        raise UnisonoError(f"no noisy_trainset_28spk_wav/ or noisy_testset_wav/ under {root}; "
                           "give the unzipped VoiceBank-DEMAND folder.")
    result = ImportResult()
    seen: set[str] = set()
    for noisy_folder in noisy_folders:
        subset = _NOISY_FOLDER.match(noisy_folder.name)["set"]
        clean_folder = noisy_folder.with_name(f"clean_{subset}_wav")
        text_folder = noisy_folder.with_name(f"{subset}_txt")
        conditions = _voicebank_log(noisy_folder.parent / "logfiles" / f"log_{subset}.txt")
        for noisy in audio_files(noisy_folder):
            utt = noisy.stem
            if utt in seen:
                result.skipped.append(f"{utt}: also in {noisy_folder.name}; the first kept")
                continue
            seen.add(utt)
            clean = clean_folder / noisy.name
            if not clean.is_file():
                result.skipped.append(f"{utt}: no clean counterpart {clean_folder.name}/{noisy.name}")
                continue
            text = text_folder / f"{utt}.txt"
            extra: dict[str, object] = {"subset": subset}
            if utt in conditions:
                extra["noise"], extra["snr_db"] = conditions[utt]
            result.entries.append(ManifestEntry(
                id=utt, path=str(noisy), kind="speech", stems={"clean": str(clean)},
                transcript=read_text(text) if text.is_file() else None,
                speaker=utt.split("_")[0], language="en",
                split="train" if subset.startswith("train") else "test",
                source="voicebank-demand", extra=extra,
            ))
    return result


def _voicebank_log(path: Path) -> dict[str, tuple[str, float]]:
    """utterance -> (noise type, SNR dB) from a `utt noise snr` log; a missing file gives {}."""
    if not path.is_file():
        return {}
    conditions: dict[str, tuple[str, float]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        try:
            conditions[fields[0]] = (fields[1], float(fields[2]))
        except ValueError:
            continue
    return conditions

"""Dataset importers: turn a public dataset's folder layout into manifest entries.

Each importer reads the layout the dataset ships with (documented on its function) and returns
entries with absolute paths; `import_dataset` then sorts them by id, applies the limit, probes
duration and sample rate with `soundfile.info`, and rewrites paths (and stem paths) relative to
the manifest. Rows whose audio is missing (or unreadable) are not fatal: they are counted in
`ImportResult.skipped` with the reason. `base` holds the shared types and the generic `folder`
importer, `captions` the captioned-audio datasets, `speech` the speech datasets.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import soundfile as sf

from unisono.data.importers.base import Importer, ImportOptions, ImportResult, import_folder
from unisono.data.importers.captions import (
    import_audiocaps,
    import_clotho,
    import_musiccaps,
    import_wavcaps,
)
from unisono.data.importers.speech import (
    import_libritts,
    import_ljspeech,
    import_vctk,
    import_voicebank_demand,
)
from unisono.data.manifest import relative_to_manifest
from unisono.errors import UnisonoError

__all__ = ["IMPORTERS", "ImportOptions", "ImportResult", "Importer", "import_dataset"]


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
        stems = {name: relative_to_manifest(stem, manifest_path)
                 for name, stem in entry.stems.items()}
        result.entries.append(replace(
            entry, path=relative_to_manifest(entry.path, manifest_path), stems=stems))
    return result

IMPORTERS: dict[str, Importer] = {
    "audiocaps": Importer("audiocaps", "AudioCaps CSVs + downloaded clips", import_audiocaps),
    "clotho": Importer("clotho", "Clotho v2 caption CSVs + audio folders", import_clotho),
    "ljspeech": Importer("ljspeech", "LJSpeech-1.1 metadata.csv + wavs/", import_ljspeech),
    "libritts": Importer("libritts", "LibriTTS(-R) subset/speaker/chapter folders", import_libritts),
    "vctk": Importer("vctk", "VCTK 0.92 (or 0.80) wav48 + txt + speaker-info", import_vctk),
    "folder": Importer("folder", "any audio folder, optional --csv with file/caption columns",
                       import_folder),
    "wavcaps": Importer("wavcaps", "WavCaps json_files/*/*_final.json + flac audio",
                        import_wavcaps),
    "voicebank-demand": Importer("voicebank-demand",
                                 "VoiceBank-DEMAND noisy/clean wav pairs + transcripts",
                                 import_voicebank_demand),
    "musiccaps": Importer("musiccaps", "MusicCaps musiccaps-public.csv + {ytid}.wav clips",
                          import_musiccaps),
}

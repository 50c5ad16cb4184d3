"""Log-mel caches of manifests, so training epochs of the reference models read arrays, not audio.

A cache folder holds, for one manifest, every clip's log-mel (its first `max_seconds`) as float16
`clean.npy` (M, total frames) and, optionally, `codec.npy`: the same clips after a round trip
through the codec (what generated audio sounds like), with `index.json` giving each clip's id and
frame offsets. The folder name hashes the manifest (path, size, modification time), the mel
settings, `max_seconds` and the codec weights, so a changed input never reuses a stale cache.
Folders are written under a temporary name and renamed, so a killed build leaves nothing half done.

Shapes: M mel bins, T frames of one clip, N clips.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from unisono.audio import load_audio
from unisono.data.manifest import ManifestEntry, read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.files import with_umask_modes
from unisono.models.refnet import MelConfig, compute_log_mel

INDEX_FILE = "index.json"


@dataclass
class MelCache:
    """The cached log-mels of one manifest.

    Attributes:
        manifest: the manifest path.
        entries: its entries, in file order.
        offsets: (N + 1,) frame offsets of the clips in `clean` / `codec`.
        clean: (M, total) float16 log-mels.
        codec: (M, total) float16 log-mels of the codec round trip, or None.
    """

    manifest: str
    entries: list[ManifestEntry]
    offsets: np.ndarray
    clean: np.ndarray
    codec: np.ndarray | None

    def __len__(self) -> int:
        return len(self.entries)

    def lengths(self) -> np.ndarray:
        """(N,) frames per clip."""
        return np.diff(self.offsets)

    def mel(self, index: int, *, codec: bool = False) -> np.ndarray:
        """(M, T) float32 log-mel of clip `index` (its codec round trip when `codec`)."""
        source = self.codec if codec else self.clean
        if source is None:
            raise UnisonoError(f"the cache of {self.manifest} was built without codec copies")
        return np.asarray(source[:, self.offsets[index] : self.offsets[index + 1]], dtype=np.float32)


def _fingerprint(manifest: Path, mel: MelConfig, max_seconds: float, codec_dir: Path | None) -> str:
    digest = hashlib.sha1()
    stat = manifest.stat()
    digest.update(f"{manifest.absolute()}|{stat.st_size}|{stat.st_mtime_ns}|{max_seconds}".encode())
    digest.update(json.dumps(asdict(mel), sort_keys=True).encode())
    if codec_dir is not None:
        for name in ("config.json", "model.safetensors"):
            digest.update(hashlib.sha1((codec_dir / name).read_bytes()).digest())
    return digest.hexdigest()[:12]


def _load_clip(entry: ManifestEntry, manifest: Path, mel: MelConfig, max_seconds: float) -> np.ndarray:
    path = resolve_path(entry, manifest)
    audio, _ = load_audio(path, mel.sample_rate)
    return audio[: int(round(max_seconds * mel.sample_rate))]


def build_mel_cache(
    manifest: str | Path,
    cache_root: str | Path,
    mel: MelConfig,
    *,
    max_seconds: float = 10.0,
    codec_dir: str | Path | None = None,
    with_codec: bool = True,
    progress: bool = True,
) -> MelCache:
    """Load the cache of `manifest`, building it first when missing.

    Args:
        manifest: a JSONL manifest (relative audio paths resolve against its folder).
        cache_root: folder holding cache folders.
        mel: the log-mel settings.
        max_seconds: each clip's first `max_seconds` are kept.
        codec_dir: codec folder for the round-trip copies (None: the shipped codec).
        with_codec: also cache codec round trips.
        progress: show a progress bar while building.

    Raises:
        UnisonoError: a missing manifest or unreadable audio.
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise UnisonoError(f"manifest not found: {manifest}")
    codec = None
    if with_codec:
        from unisono.codec_files import default_codec_dir, load_codec

        codec_dir = Path(codec_dir) if codec_dir else default_codec_dir()
        codec = load_codec(str(codec_dir))
    key = _fingerprint(manifest, mel, max_seconds, codec_dir if with_codec else None)
    folder = Path(cache_root) / f"{manifest.parent.name}-{manifest.stem}-{key}"
    entries = read_manifest(manifest)
    if not (folder / INDEX_FILE).is_file():
        _build(folder, entries, manifest, mel, max_seconds, codec, progress)
    index = json.loads((folder / INDEX_FILE).read_text())
    if index["ids"] != [entry.id for entry in entries]:
        raise UnisonoError(f"cache {folder} does not match {manifest}: delete the folder to rebuild it")
    codec_path = folder / "codec.npy"
    return MelCache(
        manifest=str(manifest),
        entries=entries,
        offsets=np.asarray(index["offsets"], dtype=np.int64),
        clean=np.load(folder / "clean.npy", mmap_mode="r"),
        codec=np.load(codec_path, mmap_mode="r") if codec_path.is_file() else None,
    )


@contextlib.contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """A temporary folder beside `folder` to write into; on success it replaces `folder` by one
    rename, on error it is removed, so a killed or failed write leaves nothing half done."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        yield staging
        with_umask_modes(staging)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _build(folder: Path, entries: list[ManifestEntry], manifest: Path, mel: MelConfig,
           max_seconds: float, codec, progress: bool) -> None:
    with staged_folder(folder) as staging:
        clean, rounded, offsets = [], [], [0]
        for entry in tqdm(entries, desc=f"mel cache {manifest.parent.name}", unit="clip",
                          disable=not progress):
            audio = _load_clip(entry, manifest, mel, max_seconds)
            clean.append(compute_log_mel(audio, mel.sample_rate, mel).astype(np.float16))
            if codec is not None:
                decoded = codec.roundtrip(audio, mel.sample_rate)
                rounded.append(compute_log_mel(decoded, mel.sample_rate, mel).astype(np.float16))
            offsets.append(offsets[-1] + clean[-1].shape[1])
        np.save(staging / "clean.npy", np.concatenate(clean, axis=1))
        if codec is not None:
            np.save(staging / "codec.npy", np.concatenate(rounded, axis=1))
        index = {"manifest": str(manifest.absolute()), "ids": [e.id for e in entries],
                 "offsets": offsets, "mel": asdict(mel), "max_seconds": max_seconds}
        (staging / INDEX_FILE).write_text(json.dumps(index) + "\n")


def mel_statistics(caches: list[MelCache], *, max_frames: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and standard deviation (M,) of the clean log-mels (an even subsample of at
    most `max_frames` frames per cache)."""
    sums, squares, count = 0.0, 0.0, 0
    for cache in caches:
        step = max(1, cache.clean.shape[1] // max_frames)
        frames = np.asarray(cache.clean[:, ::step], dtype=np.float64)
        sums = sums + frames.sum(axis=1)
        squares = squares + np.square(frames).sum(axis=1)
        count += frames.shape[1]
    mean = sums / count
    return mean.astype(np.float32), np.sqrt(np.maximum(squares / count - mean**2, 1e-6)).astype(np.float32)

"""Clip pools shared by the task tests: a few rendered world clips and a folder-imported set.

The world render is done once per test session (both task test modules import `world_pool`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from unisono.data import import_dataset, write_manifest
from unisono.data.clips import pool_from_manifests
from unisono.tasks import ClipPool
from unisono.world.writer import render_world

RATE = 16000
_RENDERED: dict[str, Path] = {}


def world_manifest(tmp_path_factory) -> Path:
    """Four each of sfx, music and speech clips (no stems), rendered once per session."""
    if "world" not in _RENDERED:
        out = tmp_path_factory.mktemp("task_world")
        _RENDERED["world"] = render_world(out, n=12, seed=5, split="train",
                                          kinds="sfx,music,speech", write_stems=False,
                                          progress=False)
    return _RENDERED["world"]


def world_pool(tmp_path_factory, *, max_seconds: float = 10.0) -> ClipPool:
    """A pool over the rendered world clips at 16 kHz."""
    return pool_from_manifests([world_manifest(tmp_path_factory)], sample_rate=RATE,
                               max_seconds=max_seconds)


def folder_pool(root: Path) -> ClipPool:
    """A user's folder imported with the generic importer: kind "audio", labels from the folder
    names, no captions, no world metadata. Files are 22.05 kHz so loading must resample."""
    rng = np.random.default_rng(0)
    file_rate = 22050
    for index in range(3):  # short barks: decaying 700 Hz bursts with silence around them
        t = np.arange(int(0.4 * file_rate)) / file_rate
        burst = 0.5 * np.sin(2 * np.pi * (700 + 50 * index) * t) * np.exp(-t / 0.08)
        audio = np.concatenate([np.zeros(2000), burst, np.zeros(3000)])
        _write(root / "audio" / "dog bark" / f"bark{index}.wav", audio, file_rate)
    for index in range(2):  # long rain-like noise beds
        _write(root / "audio" / "rain" / f"rain{index}.wav",
               0.1 * rng.standard_normal(int(3.5 * file_rate)), file_rate)
    manifest = root / "manifest.jsonl"
    result = import_dataset("folder", root / "audio", manifest)
    write_manifest(manifest, result.entries)
    return pool_from_manifests([manifest], sample_rate=RATE, max_seconds=10.0)


def _write(path: Path, audio: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.astype(np.float32), rate)

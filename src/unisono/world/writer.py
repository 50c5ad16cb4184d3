"""Render many scenes to a folder: `audio/`, `stems/`, `scenes/` and `manifest.jsonl`.

`render_world` is what `unisono world render` runs. Scenes are rendered in index order (optionally
by a pool of worker processes; the output does not depend on the number of workers), so two runs
with the same arguments write byte-identical files.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from unisono.audio import save_audio
from unisono.errors import UnisonoError
from unisono.world.pairs import enhancement_pair, superres_pair
from unisono.world.render import RenderedScene, SceneRenderer
from unisono.world.scene import KINDS, SceneSampler, SceneSpec

SOURCE_NAME = "unisono-world"


@dataclass(frozen=True)
class RenderJob:
    out_dir: str
    seed: int
    split: str
    sample_rate: int
    heldout: bool
    kinds: tuple[str, ...]
    write_stems: bool = True
    pairs: bool = False


def parse_kinds(text: str | Sequence[str]) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in (text.split(",") if isinstance(text, str) else text) if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise UnisonoError(f"unknown world kinds {unknown or kinds}; choose from {', '.join(KINDS)}")
    return kinds


def manifest_row(rendered: RenderedScene, *, audio_path: str, stem_paths: dict[str, str],
                 scene_path: str) -> dict[str, Any]:
    """The manifest line of one rendered scene (paths relative to the output folder)."""
    spec, meta = rendered.spec, rendered.metadata
    row: dict[str, Any] = {
        "id": spec.id, "path": audio_path, "duration": round(rendered.duration, 6),
        "sample_rate": spec.sample_rate, "kind": spec.kind, "captions": meta["captions"],
    }
    for key in ("transcript", "speaker", "gender"):
        if meta.get(key) is not None:
            row[key] = meta[key]
    if meta.get("transcript"):
        row["language"] = "en"
    row["labels"] = meta["labels"]
    row["events"] = [{"class": e["class"], "onset": e["onset"], "offset": e["offset"]} for e in meta["events"]]
    row["phonemes"] = meta.get("phonemes", [])
    for key in ("instrument", "key", "mode", "tempo"):
        if meta.get(key) is not None:
            row[key] = meta[key]
    row["notes"] = [{k: v for k, v in n.items() if k in ("pitch", "onset", "offset", "velocity")}
                    for n in meta.get("notes", [])]
    row.update(stems=stem_paths, scene=scene_path, split=spec.split, source=SOURCE_NAME)
    extra: dict[str, Any] = {"event_details": meta["events"], "heldout": spec.heldout}
    if spec.kind == "singing":
        extra["lyrics"] = [n.get("syllable") for n in meta.get("notes", [])]
    if "speed" in meta:
        extra["speed"] = meta["speed"]
    if spec.background is not None:
        extra["background"] = spec.background.name
    row["extra"] = extra
    return row


def _render_one(job: RenderJob, index: int, sampler: SceneSampler, renderer: SceneRenderer) -> str:
    kind = job.kinds[index % len(job.kinds)]
    spec: SceneSpec = sampler.make(kind, seed=job.seed, index=index)
    rendered = renderer.render(spec)
    out = Path(job.out_dir)
    audio_path = f"audio/{spec.id}.wav"
    save_audio(out / audio_path, rendered.mix, spec.sample_rate)
    stem_paths = {}
    if job.write_stems:
        for name, track in rendered.stems.items():
            stem_paths[name] = f"stems/{spec.id}/{name}.wav"
            save_audio(out / stem_paths[name], track, spec.sample_rate)
    scene_path = f"scenes/{spec.id}.json"
    scene = spec.to_dict() | {"rendered_duration": round(rendered.duration, 6)}
    (out / scene_path).parent.mkdir(parents=True, exist_ok=True)
    (out / scene_path).write_text(json.dumps(scene, indent=1) + "\n")
    row = manifest_row(rendered, audio_path=audio_path, stem_paths=stem_paths, scene_path=scene_path)
    if job.pairs:
        row["extra"]["pairs"] = _write_pairs(out, rendered)
    return json.dumps(row, ensure_ascii=False)


def _write_pairs(out: Path, rendered: RenderedScene) -> dict[str, Any]:
    """Enhancement (speech only) and super-resolution sources for this clip; targets are the mix."""
    spec = rendered.spec
    rng = np.random.default_rng([spec.seed, 2])
    made: dict[str, Any] = {}
    if spec.kind == "speech":
        noisy, params = enhancement_pair(rendered.mix, spec.sample_rate, rng)
        made["se"] = {"path": f"pairs/{spec.id}_noisy.wav", **params}
        save_audio(out / made["se"]["path"], noisy, spec.sample_rate)
    low, params = superres_pair(rendered.mix, spec.sample_rate, rng)
    made["sr"] = {"path": f"pairs/{spec.id}_lowpass.wav", **params}
    save_audio(out / made["sr"]["path"], low, spec.sample_rate)
    return made


_WORKER: dict[str, Any] = {}


def _pool_init(job: RenderJob) -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker; torch is already imported, so env vars are too late
    _worker_init(job)


def _worker_init(job: RenderJob) -> None:
    _WORKER["job"] = job
    _WORKER["sampler"] = SceneSampler(sample_rate=job.sample_rate, split=job.split, heldout=job.heldout)
    _WORKER["renderer"] = SceneRenderer()


def _worker_render(index: int) -> str:
    return _render_one(_WORKER["job"], index, _WORKER["sampler"], _WORKER["renderer"])


def iter_render(job: RenderJob, n: int, *, workers: int = 1, start: int = 0) -> Iterator[str]:
    """Yield manifest lines of scenes start..start+n-1 in order."""
    indices = range(start, start + n)
    if workers <= 1:
        _worker_init(job)
        for index in indices:
            yield _worker_render(index)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_pool_init, initargs=(job,)) as pool:
        yield from pool.imap(_worker_render, indices, chunksize=1)


def render_world(
    out_dir: str | Path,
    *,
    n: int,
    seed: int = 0,
    split: str = "train",
    kinds: Sequence[str] | str = KINDS,
    sample_rate: int = 16000,
    heldout: bool = False,
    workers: int = 1,
    write_stems: bool = True,
    pairs: bool = False,
    progress: bool = True,
) -> Path:
    """Render `n` scenes into `out_dir` and write `out_dir/manifest.jsonl`; returns its path."""
    if n <= 0:
        raise UnisonoError(f"--n must be positive; got {n}")
    if sample_rate < 16000:
        raise UnisonoError(f"sample rate {sample_rate} is too low; use at least 16000 Hz (the procedural classes reach 8 kHz)")
    job = RenderJob(out_dir=str(out_dir), seed=seed, split=split, sample_rate=sample_rate,
                    heldout=heldout, kinds=parse_kinds(kinds), write_stems=write_stems,
                    pairs=pairs)
    SceneSampler(sample_rate=sample_rate, split=split, heldout=heldout)  # validate early, in-process
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.jsonl"
    tmp = out / ".manifest.jsonl.tmp"
    with open(tmp, "w") as handle:
        lines = iter_render(job, n, workers=workers)
        for line in tqdm(lines, total=n, desc=f"world {split}", unit="clip", disable=not progress):
            handle.write(line + "\n")
    os.replace(tmp, manifest)
    return manifest


def write_real_clip_manifest(path: str | Path, *, split: str | None = None) -> Path:
    """A manifest of the indexed real recorded clips (absolute paths), optionally one split only."""
    from unisono.data.manifest import ManifestEntry, write_manifest
    from unisono.world import real
    from unisono.world.captions import article

    entries = []
    for clip in real.require_real_clips():
        clip_split = real.split_of_clip(clip)
        if split is not None and clip_split != split:
            continue
        stem = Path(clip.path).stem.replace(" ", "_")
        entries.append(ManifestEntry(
            id=f"real-{clip.source}-{len(entries):05d}-{stem}", path=clip.path, duration=clip.duration,
            kind="sfx", captions=[f"the sound of {article(clip.label)}"], labels=[clip.label], split=clip_split,
            source=f"debian-{clip.source}"))
    return write_manifest(path, entries)

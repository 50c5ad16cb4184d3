"""Fitting the tagger's aiSFX probe: `train_tagger_probe(config)` behind
`unisono train-tagger-probe CONFIG`.

The tagger's CNN learns its event labels from the training clips alone; a probe on the embeddings
of aiSFX (a sound-effect CNN pretrained on far more real recordings, the one the FD metric uses)
generalises better to recordings it has not heard. The probe reads a clip's aiSFX frames pooled to
[mean, max] (`unisono.models.tagger.probe_features`) and the event head fuses both:
`sigmoid((1 - a) logit(p_cnn) + a probe_logit)` (`ProbeConfig`).

1. Features: for every clip of the training and validation manifests, its probe features and the
   CNN's event probabilities, of the clean clip and (training sets, `probe.codec_copies`) of its
   codec round trip, which is what generated audio sounds like. They are cached per manifest in
   `data.cache_dir` (`ProbeCache`; the folder name hashes the manifest, the CNN, the codec and the
   settings), extraction split over `run.workers` processes of one thread each.
2. Fit: the probe, linear (L-BFGS, L2 penalty) or an MLP (AdamW), maps standardised features to
   the multi-hot event targets (`clip_targets`) by binary cross-entropy, once per weight decay of
   `probe.weight_decays`; recorded clips repeat `data.real_clips_repeat` times as in the tagger's
   own training.
3. Pick: the weight decay and fusion weight `a` (`probe.fusion_weights`) with the best top-1 macro
   F1 on the validation manifests' single-event clips (ties: the earlier in the grids).
4. Write `run.output_dir/final`: the CNN with the picked probe, one tagger folder, and
   `run.output_dir/report.json` with every grid point's validation figure.

Shapes: N clips, F probe features, K event labels.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from unisono.data.manifest import ManifestEntry, read_manifest
from unisono.errors import UnisonoError
from unisono.models.tagger import (
    ProbeConfig,
    Tagger,
    TagPrediction,
    fuse_event_probabilities,
    probe_network,
)
from unisono.refmodels.cache import staged_folder
from unisono.refmodels.data import RefDataConfig, training_manifests, validation_manifests
from unisono.refmodels.evaluate import tagger_scores
from unisono.refmodels.labels import LabelSets, clip_targets

PROBE_KINDS = ("linear", "mlp")


@dataclass
class ProbeFitConfig:
    """The probe and its search grid.

    Attributes:
        kind: "linear" (L-BFGS on the full set) or "mlp" (one hidden layer, AdamW).
        hidden: MLP width.
        weight_decays: L2 penalties (linear: weight x sum of squared weights added to the mean
            loss; MLP: AdamW's decay), one fit each.
        fusion_weights: probe weights `a` tried for each fit.
        codec_copies: also train on the codec round trips of the training clips.
        sample_rate: rate clips are brought to before aiSFX (the codec's).
        lbfgs_iterations: L-BFGS iterations of a linear fit.
        mlp_steps: AdamW steps of an MLP fit (batches of `mlp_batch` rows).
        mlp_batch: rows per MLP step.
        mlp_lr: AdamW learning rate.
    """

    kind: str = "linear"
    hidden: int = 512
    weight_decays: list[float] = field(default_factory=lambda: [3e-5, 1e-4, 3e-4])
    fusion_weights: list[float] = field(default_factory=lambda: [0.3, 0.5, 0.7, 1.0])
    codec_copies: bool = True
    sample_rate: int = 16000
    lbfgs_iterations: int = 300
    mlp_steps: int = 3000
    mlp_batch: int = 256
    mlp_lr: float = 1e-3


@dataclass
class ProbeRunConfig:
    """Run bookkeeping.

    Attributes:
        output_dir: run folder (final/ and report.json).
        workers: feature-extraction processes (one torch thread each).
        seed: seeds the probe's initialisation and the MLP's batches.
    """

    output_dir: str = "runs/tagger_probe"
    workers: int = 1
    seed: int = 0


@dataclass
class TrainProbeConfig:
    """Everything `unisono train-tagger-probe` reads from its YAML file.

    Attributes:
        tagger: the tagger folder whose CNN the probe joins (null: the shipped tagger); a probe it
            already has is replaced.
        data: training and validation sets as the tagger's training reads them (`batch_size` and
            `bucket_batches` are unused here).
        probe: the probe and its grid.
        run: output folder, workers, seed.
    """

    tagger: str | None = None
    data: RefDataConfig = field(default_factory=RefDataConfig)
    probe: ProbeFitConfig = field(default_factory=ProbeFitConfig)
    run: ProbeRunConfig = field(default_factory=ProbeRunConfig)


@dataclass
class ProbeCache:
    """Cached probe inputs of one manifest.

    Attributes:
        manifest: the manifest path.
        entries: its entries, in file order.
        features: (N, F) probe features of the clean clips.
        cnn: (N, K) the CNN's event probabilities of the clean clips.
        codec_features: (N, F) of the codec round trips, or None.
        codec_cnn: (N, K) of the codec round trips, or None.
    """

    manifest: str
    entries: list[ManifestEntry]
    features: np.ndarray
    cnn: np.ndarray
    codec_features: np.ndarray | None = None
    codec_cnn: np.ndarray | None = None


def _tagger_digest(tagger: Tagger) -> str:
    digest = hashlib.sha1(json.dumps(asdict(tagger.config), sort_keys=True, default=str).encode())
    for name, value in sorted(tagger.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().float().numpy().tobytes())
    return digest.hexdigest()


def _fingerprint(manifest: Path, cnn_digest: str, codec_dir: Path | None, sample_rate: int,
                 max_seconds: float) -> str:
    digest = hashlib.sha1()
    stat = manifest.stat()
    digest.update(f"{manifest.absolute()}|{stat.st_size}|{stat.st_mtime_ns}|{max_seconds}|"
                  f"{sample_rate}|{cnn_digest}".encode())
    if codec_dir is not None:
        for name in ("config.json", "model.safetensors"):
            digest.update(hashlib.sha1((codec_dir / name).read_bytes()).digest())
    return digest.hexdigest()[:12]


def _extract_shard(job: tuple) -> dict[str, np.ndarray]:
    """Probe features and CNN probabilities of rows `shard::workers` of a manifest (one process,
    one thread)."""
    manifest, tagger_dir, codec_dir, sample_rate, max_seconds, shard, workers, threads = job
    if threads:
        torch.set_num_threads(threads)
    from unisono.audio import load_audio
    from unisono.data.manifest import resolve_path
    from unisono.metrics.embedding import AisfxEmbedder
    from unisono.models.tagger import probe_features

    entries = read_manifest(manifest)
    cnn = Tagger.from_pretrained(tagger_dir).without_probe()
    embedder = AisfxEmbedder()
    codec = None
    if codec_dir is not None:
        from unisono.codec_files import load_codec

        codec = load_codec(str(codec_dir))
    rows = list(range(shard, len(entries), workers))
    out: dict[str, list] = {"rows": rows, "features": [], "cnn": [], "codec_features": [],
                            "codec_cnn": []}
    for row in tqdm(rows, desc=f"probe features {Path(manifest).parent.name}", unit="clip",
                    disable=shard != 0):
        audio, _ = load_audio(resolve_path(entries[row], manifest), sample_rate)
        copies = [("", audio[: int(round(max_seconds * sample_rate))])]
        if codec is not None:
            copies.append(("codec_", codec.roundtrip(copies[0][1], sample_rate)))
        for prefix, clip in copies:
            out[prefix + "features"].append(
                probe_features([clip], sample_rate, sample_rate, embedder=embedder)[0])
            out[prefix + "cnn"].append(cnn.predict(clip, sample_rate).probabilities["event"][0])
    return {key: np.asarray(value, dtype=np.int64 if key == "rows" else np.float32)
            for key, value in out.items() if len(value)}


def build_probe_cache(manifest: str | Path, cache_root: str | Path, *, tagger: str | None,
                      sample_rate: int = 16000, max_seconds: float = 10.0,
                      codec_dir: str | Path | None = None, with_codec: bool = True,
                      workers: int = 1) -> ProbeCache:
    """Load the probe cache of `manifest`, building it first when missing.

    Args:
        manifest: a JSONL manifest (relative audio paths resolve against its folder).
        cache_root: folder holding cache folders.
        tagger: tagger folder whose CNN gives the event probabilities (None: the shipped one;
            a probe it has is ignored).
        sample_rate: rate the clips are read at.
        max_seconds: each clip's first `max_seconds` are kept.
        codec_dir: codec folder for the round-trip copies (None: the shipped codec).
        with_codec: also cache the codec round trips.
        workers: extraction processes.

    Raises:
        UnisonoError: a missing manifest or unreadable audio.
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise UnisonoError(f"manifest not found: {manifest}")
    if workers < 1:
        raise UnisonoError(f"run.workers must be at least 1; got {workers}")
    codec = None
    if with_codec:
        from unisono.codec_files import default_codec_dir

        codec = Path(codec_dir) if codec_dir else default_codec_dir()
    digest = _tagger_digest(Tagger.from_pretrained(tagger).without_probe())
    key = _fingerprint(manifest, digest, codec, sample_rate, max_seconds)
    folder = Path(cache_root) / f"probe-{manifest.parent.name}-{manifest.stem}-{key}"
    entries = read_manifest(manifest)
    if not (folder / "index.json").is_file():
        jobs = [(str(manifest), tagger, None if codec is None else str(codec), sample_rate,
                 max_seconds, shard, workers, 1 if workers > 1 else 0) for shard in range(workers)]
        if workers == 1:
            parts = [_extract_shard(jobs[0])]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(_extract_shard, jobs))
        _write_cache(folder, entries, manifest, parts)
    index = json.loads((folder / "index.json").read_text())
    if index["ids"] != [entry.id for entry in entries]:
        raise UnisonoError(f"cache {folder} does not match {manifest}: delete the folder to rebuild it")
    arrays = {name: np.load(folder / f"{name}.npy") for name in
              ("features", "cnn", "codec_features", "codec_cnn") if (folder / f"{name}.npy").is_file()}
    return ProbeCache(manifest=str(manifest), entries=entries, **arrays)


def _write_cache(folder: Path, entries: list[ManifestEntry], manifest: Path,
                 parts: list[dict[str, np.ndarray]]) -> None:
    """The shards in manifest order, written under a temporary name and renamed."""
    order = np.argsort(np.concatenate([part["rows"] for part in parts]))
    with staged_folder(folder) as staging:
        for name in ("features", "cnn", "codec_features", "codec_cnn"):
            if name in parts[0]:
                np.save(staging / f"{name}.npy", np.concatenate([p[name] for p in parts])[order])
        index = {"manifest": str(manifest.absolute()), "ids": [e.id for e in entries]}
        (staging / "index.json").write_text(json.dumps(index) + "\n")


def event_targets(entries: list[ManifestEntry], labels: LabelSets) -> np.ndarray:
    """(N, K) multi-hot event targets of manifest entries."""
    targets = np.zeros((len(entries), len(labels.events)), np.float32)
    for row, entry in enumerate(entries):
        targets[row, list(clip_targets(entry, labels).events)] = 1.0
    return targets


def fit_probe(features: torch.Tensor, targets: torch.Tensor, config: ProbeFitConfig,
              weight_decay: float, *, seed: int = 0) -> torch.nn.Module:
    """A probe from standardised features (N, F) to multi-hot targets (N, K), in eval mode."""
    torch.manual_seed(seed)
    probe_config = ProbeConfig(features=features.shape[1],
                               hidden=0 if config.kind == "linear" else config.hidden)
    probe = probe_network(probe_config, targets.shape[1])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    if config.kind == "linear":
        optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=config.lbfgs_iterations,
                                      history_size=20, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = bce(probe(features), targets) + weight_decay * probe.weight.pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        return probe.eval()
    optimizer = torch.optim.AdamW(probe.parameters(), lr=config.mlp_lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    probe.train()
    for _ in range(config.mlp_steps):
        batch = torch.randint(len(features), (config.mlp_batch,), generator=generator)
        loss = bce(probe(features[batch]), targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return probe.eval()


def probed_tagger(cnn: Tagger, probe: torch.nn.Module, mean: np.ndarray, std: np.ndarray,
                  config: ProbeFitConfig, weight: float) -> Tagger:
    """The tagger `cnn` (its probe, if any, dropped) with `probe` fused at `weight`; `mean` and
    `std` (F,) standardise the probe's features as in its fit."""
    probe_config = ProbeConfig(features=len(mean), hidden=0 if config.kind == "linear" else config.hidden,
                               weight=weight, sample_rate=config.sample_rate)
    cnn = cnn.without_probe() if cnn.config.probe is not None else cnn
    tagger = Tagger(replace(cnn.config, probe=probe_config))
    tagger.load_state_dict({**cnn.state_dict(),
                            **{f"probe.{k}": v for k, v in probe.state_dict().items()},
                            "probe_mean": torch.as_tensor(mean, dtype=torch.float32),
                            "probe_std": torch.as_tensor(std, dtype=torch.float32)})
    return tagger


def _check(config: TrainProbeConfig) -> None:
    probe = config.probe
    if probe.kind not in PROBE_KINDS:
        raise UnisonoError(f"probe.kind must be one of {', '.join(PROBE_KINDS)}; got {probe.kind!r}")
    if not probe.weight_decays or any(w < 0 for w in probe.weight_decays):
        raise UnisonoError("probe.weight_decays must list at least one penalty >= 0")
    if not probe.fusion_weights or any(not 0.0 <= a <= 1.0 for a in probe.fusion_weights):
        raise UnisonoError("probe.fusion_weights must list at least one weight in [0, 1] "
                           "(0: the CNN alone, 1: the probe alone)")
    data = config.data
    if not data.val_renders and not data.val_manifests and not data.val_real_clips:
        raise UnisonoError("the probe's weight decay and fusion weight are picked on validation "
                           "clips: set data.val_manifests (or data.val_renders, "
                           "data.val_real_clips)")


def train_tagger_probe(config: TrainProbeConfig, *, show_progress: bool = True) -> Path:
    """Fit, pick and write a tagger with an aiSFX probe (see the module docstring).

    Returns:
        The written tagger folder (`run.output_dir/final`).
    """
    _check(config)
    data, fit = config.data, config.probe
    cnn = Tagger.from_pretrained(config.tagger).without_probe()
    labels = LabelSets(*(tuple(cnn.config.labels(head)) for head in ("event", "instrument",
                                                                      "voice", "gender")))

    def cache(path: Path, with_codec: bool) -> ProbeCache:
        return build_probe_cache(path, data.cache_dir, tagger=config.tagger,
                                 sample_rate=fit.sample_rate, max_seconds=data.max_seconds,
                                 codec_dir=data.codec, with_codec=with_codec,
                                 workers=config.run.workers)

    train_paths = training_manifests(data)
    train = [cache(path, fit.codec_copies) for path in train_paths]
    val = [cache(path, False) for path in validation_manifests(data)]
    rows, targets = [], []
    for position, part in enumerate(train):
        repeat = data.real_clips_repeat if data.real_clips and position == len(train) - 1 else 1
        copies = [part.features] + ([part.codec_features] if fit.codec_copies else [])
        for _ in range(repeat):
            for copy in copies:
                rows.append(copy)
                targets.append(event_targets(part.entries, labels))
    features = np.concatenate(rows)
    mean, std = features.mean(0), features.std(0) + 1e-4
    inputs = torch.tensor((features - mean) / std)
    target = torch.tensor(np.concatenate(targets))
    if not target.any():
        raise UnisonoError("no training clip carries an event label of the tagger: the probe has "
                           "nothing to learn (check the manifests' labels)")
    val_entries = [entry for part in val for entry in part.entries]
    val_features = np.concatenate([part.features for part in val])
    val_cnn = np.concatenate([part.cnn for part in val])

    def scores(probabilities: np.ndarray) -> dict[str, float]:
        prediction = TagPrediction(labels={"event": list(labels.events)},
                                   probabilities={"event": probabilities.astype(np.float32)})
        return tagger_scores(prediction, val_entries)

    def score(probabilities: np.ndarray) -> float:
        return scores(probabilities)["top1_macro_f1"]

    alone = scores(val_cnn)
    report = {"validation_clips": len(val_entries), "validation_single_event_clips": alone["clips"],
              "training_rows": len(features), "cnn_alone": alone["top1_macro_f1"], "grid": []}
    best = None
    for weight_decay in tqdm(fit.weight_decays, desc="probe fits", disable=not show_progress):
        probe = fit_probe(inputs, target, fit, weight_decay, seed=config.run.seed)
        with torch.no_grad():
            logits = probe(torch.tensor((val_features - mean) / std)).double().numpy()
        for weight in fit.fusion_weights:
            f1 = score(fuse_event_probabilities(val_cnn, logits, weight))
            report["grid"].append({"weight_decay": weight_decay, "fusion_weight": weight,
                                   "top1_macro_f1": f1})
            if best is None or f1 > best[0]:
                best = (f1, weight_decay, weight, probe)
    f1, weight_decay, weight, probe = best
    report["picked"] = {"weight_decay": weight_decay, "fusion_weight": weight, "top1_macro_f1": f1}
    tagger = probed_tagger(cnn, probe, mean, std, fit, weight)
    out = Path(config.run.output_dir)
    with staged_folder(out / "final") as staging:
        tagger.save_pretrained(staging)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return out / "final"

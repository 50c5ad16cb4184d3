"""Training data of the reference models: rendered world sets, mel caches, batches, augmentation.

`prepare_caches` renders any configured world set that is missing (`unisono world render`), writes
the recorded-clip manifest when asked, and builds the mel cache of every manifest. `BatchPlan` fixes
which clips form batch `step`: epoch e shuffles all clips (or draws as many by weight, for
class-balanced sampling) with `default_rng([seed, e])`, sorts groups of batches by length (less
padding) and shuffles the batch order, so a resumed run replays exactly the batches of an
uninterrupted one. `augment` draws, per clip and step, the codec round
trip or the clean copy, a gain and SpecAugment masks from `default_rng([seed, step, row])`.

Shapes: M mel bins, T frames, B batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unisono.errors import UnisonoError
from unisono.models.refnet import MelConfig
from unisono.refmodels.cache import MelCache, build_mel_cache


@dataclass
class RenderSpec:
    """A world set rendered by the trainer when `out/manifest.jsonl` is missing.

    Attributes:
        out: output folder.
        n: number of clips.
        seed: render seed.
        split: "train", "val" or "test".
        kinds: comma-separated world kinds, cycled over clip indices.
    """

    out: str
    n: int
    seed: int = 0
    split: str = "train"
    kinds: str = "sfx,speech,music,singing,scene"

    @property
    def manifest(self) -> Path:
        return Path(self.out) / "manifest.jsonl"


@dataclass
class RefDataConfig:
    """Where training and validation clips come from and how batches are made.

    Attributes:
        renders: world sets to train on (rendered when missing, without stems).
        manifests: further training manifests used as they are.
        real_clips: also train on the train-split recorded clips (manifest written to cache_dir).
        real_clips_repeat: each recorded clip appears this many times per epoch (there are few
            recordings per label, and their labels are finer than the procedural classes).
        val_renders: world sets for validation metrics during training.
        val_manifests: further validation manifests used as they are (your own labelled clips).
        val_real_clips: also validate on the val-split recorded clips.
        cache_dir: mel caches and the recorded-clip manifests.
        codec: codec folder for the round-trip copies (null: the shipped codec).
        max_seconds: clips are cut to their first `max_seconds`.
        batch_size: clips per step.
        bucket_batches: this many batches' worth of clips are sorted by length together (less
            padding); 1 draws every batch at random (contrastive training needs clips of
            different lengths in a batch, or duration cannot tell them apart).
        render_workers: worker processes for rendering missing world sets.
    """

    renders: list[RenderSpec] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    real_clips: bool = True
    real_clips_repeat: int = 1
    val_renders: list[RenderSpec] = field(default_factory=list)
    val_manifests: list[str] = field(default_factory=list)
    val_real_clips: bool = False
    cache_dir: str = "data/refcache"
    codec: str | None = None
    max_seconds: float = 10.0
    batch_size: int = 16
    bucket_batches: int = 32
    render_workers: int = 1


@dataclass
class AugmentConfig:
    """Per-clip augmentation of cached log-mels.

    Attributes:
        codec_probability: chance of reading the codec round trip instead of the clean clip.
        gain_db: uniform gain in [-gain_db, gain_db] (applied to the log power, re-floored).
        freq_masks: SpecAugment frequency masks per clip, each up to `freq_mask_bins` bins.
        freq_mask_bins: widest frequency mask.
        time_masks: time masks per clip, each up to `time_mask_fraction` of the clip.
        time_mask_fraction: widest time mask as a fraction of the clip length.
    """

    codec_probability: float = 0.35
    gain_db: float = 12.0
    freq_masks: int = 2
    freq_mask_bins: int = 8
    time_masks: int = 2
    time_mask_fraction: float = 0.08


@dataclass(frozen=True)
class ClipRef:
    """One training clip: which cache, which entry."""

    cache: int
    index: int


def _render_missing(spec: RenderSpec, workers: int) -> Path:
    if not spec.manifest.is_file():
        from unisono.world.writer import render_world

        render_world(spec.out, n=spec.n, seed=spec.seed, split=spec.split, kinds=spec.kinds,
                     workers=workers, write_stems=False)
    return spec.manifest


def _real_manifest(cache_dir: str, split: str) -> Path:
    path = Path(cache_dir) / f"real_{split}.jsonl"
    if not path.is_file():  # written once: its modification time is part of the cache key
        from unisono.world.writer import write_real_clip_manifest

        write_real_clip_manifest(path, split=split)
    return path


def training_manifests(data: RefDataConfig) -> list[Path]:
    """Render missing train sets; every training manifest in a fixed order."""
    paths = [_render_missing(spec, data.render_workers) for spec in data.renders]
    paths += [Path(m) for m in data.manifests]
    if data.real_clips:
        paths.append(_real_manifest(data.cache_dir, "train"))
    if not paths:
        raise UnisonoError("no training data: set data.renders, data.manifests or data.real_clips")
    return paths


def training_clips(caches: list[MelCache], data: RefDataConfig) -> list[ClipRef]:
    """Every training clip of `caches` (from `training_manifests`), recorded clips repeated
    `real_clips_repeat` times."""
    if data.real_clips_repeat < 1:
        raise UnisonoError(f"data.real_clips_repeat must be at least 1; got {data.real_clips_repeat}")
    refs = []
    for c, cache in enumerate(caches):
        repeat = data.real_clips_repeat if data.real_clips and c == len(caches) - 1 else 1
        refs += [ClipRef(c, i) for _ in range(repeat) for i in range(len(cache))]
    return refs


def validation_manifests(data: RefDataConfig) -> list[Path]:
    """Render missing validation sets; every validation manifest."""
    paths = [_render_missing(spec, data.render_workers) for spec in data.val_renders]
    paths += [Path(m) for m in data.val_manifests]
    if data.val_real_clips:
        paths.append(_real_manifest(data.cache_dir, "val"))
    return paths


def prepare_caches(paths: list[Path], data: RefDataConfig, mel: MelConfig, *, with_codec: bool,
                   progress: bool = True) -> list[MelCache]:
    """The mel cache of every manifest (built when missing)."""
    return [build_mel_cache(path, data.cache_dir, mel, max_seconds=data.max_seconds,
                            codec_dir=data.codec, with_codec=with_codec, progress=progress)
            for path in paths]


class BatchPlan:
    """The clips of every step (see the module docstring).

    With `weights`, an epoch is not a permutation but as many clips drawn with replacement with
    probability proportional to their weight (class-balanced sampling); the rest is the same.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, *, group: int = 32,
                 weights: np.ndarray | None = None) -> None:
        if len(lengths) < batch_size:
            raise UnisonoError(f"only {len(lengths)} training clips for batch size {batch_size}")
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group = group
        self.steps_per_epoch = len(lengths) // batch_size
        self.probabilities = None
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != self.lengths.shape or not np.all(weights >= 0) or weights.sum() <= 0:
                raise UnisonoError("sampling weights must be one non-negative number per clip, "
                                   "not all zero")
            self.probabilities = weights / weights.sum()

    @functools.lru_cache(maxsize=2)  # noqa: B019 - a plan lives as long as its training run
    def _epoch(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch])
        size = self.steps_per_epoch * self.batch_size
        if self.probabilities is None:
            order = rng.permutation(len(self.lengths))[:size]
        else:
            order = rng.choice(len(self.lengths), size=size, p=self.probabilities)
        span = self.group * self.batch_size
        for start in range(0, len(order), span):
            chunk = order[start : start + span]
            order[start : start + span] = chunk[np.argsort(self.lengths[chunk], kind="stable")]
        batches = order.reshape(self.steps_per_epoch, self.batch_size)
        return batches[np.random.default_rng([self.seed, epoch, 1]).permutation(len(batches))]

    def batch(self, step: int) -> np.ndarray:
        """(B,) clip indices of step `step`."""
        epoch, position = divmod(step, self.steps_per_epoch)
        return self._epoch(epoch)[position]


def augment(clean: np.ndarray, codec: np.ndarray | None, config: AugmentConfig, mel: MelConfig,
            rng: np.random.Generator) -> np.ndarray:
    """One augmented (M, T) log-mel from a clip's clean and codec copies."""
    use_codec = codec is not None and rng.random() < config.codec_probability
    out = np.array(codec if use_codec else clean, dtype=np.float32)
    floor = mel.floor_value
    if config.gain_db > 0:  # log10 power: a gain of g dB adds g / 10
        out = np.maximum(out + rng.uniform(-config.gain_db, config.gain_db) / 10.0, floor)
    bins, frames = out.shape
    for _ in range(config.freq_masks):
        width = int(rng.integers(0, config.freq_mask_bins + 1))
        start = int(rng.integers(0, max(bins - width, 0) + 1))
        out[start : start + width] = floor
    widest = int(config.time_mask_fraction * frames)
    for _ in range(config.time_masks if widest > 0 else 0):
        width = int(rng.integers(0, widest + 1))
        start = int(rng.integers(0, max(frames - width, 0) + 1))
        out[:, start : start + width] = floor
    return out

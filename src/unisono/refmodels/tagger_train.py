"""Training of the reference tagger: `train_tagger(config)` behind `unisono train-tagger CONFIG`.

Data: world sets (rendered when missing) and the recorded clips, read from mel caches; a share of
every batch comes from the codec round trip so generated audio is tagged as well as clean audio.
Loss: binary cross-entropy summed over the labels of the multi-label heads (event, instrument) and
cross-entropy for the single-label heads (voice, gender), weighted by `TaggerLossConfig`.
Sampling can be class-balanced (`balance_power`: recorded-clip labels have a handful of
recordings each while a few, hi-hat or snare, have dozens), and a run can start from a trained
tagger (`init_from`) to fine-tune it.
Validation (every `run.eval_every` steps, EMA weights): top-1 macro F1 on single-event clips and
voice / gender accuracy on the validation sets.

Shapes: B batch, M mel bins, T frames, K labels of a head.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from unisono.errors import UnisonoError
from unisono.models.refnet import load_state, pad_batch
from unisono.models.tagger import HEADS, Tagger, TaggerConfig
from unisono.refmodels.cache import MelCache, mel_statistics
from unisono.refmodels.data import (
    AugmentConfig,
    BatchPlan,
    RefDataConfig,
    augment,
    prepare_caches,
    training_clips,
    training_manifests,
    validation_manifests,
)
from unisono.refmodels.evaluate import sound_event_labels, tagger_scores
from unisono.refmodels.labels import (
    IGNORE,
    ClipTargets,
    LabelSets,
    clip_targets,
    world_label_sets,
)
from unisono.refmodels.loop import RefRunConfig, run_training
from unisono.training import OptimConfig


@dataclass
class TaggerLossConfig:
    """Weights of the heads' losses."""

    event: float = 1.0
    instrument: float = 1.0
    voice: float = 0.5
    gender: float = 0.5


@dataclass
class TrainTaggerConfig:
    """Everything `unisono train-tagger` reads from its YAML file.

    `model.events`, `model.instruments` and `model.voices` may be left empty: they are then
    filled with every label of the world and of the installed recorded clips.

    Attributes:
        balance_power: class-balanced sampling: a clip is drawn with probability proportional to
            (median label count / count of its rarest event label) ** balance_power, counts taken
            over the training clips (0: every clip once per epoch, in random order).
        init_from: a tagger folder whose weights (and mel statistics) start the run, e.g. to
            fine-tune a trained tagger; its label lists must be the config's.
    """

    model: TaggerConfig = field(default_factory=TaggerConfig)
    data: RefDataConfig = field(default_factory=RefDataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    loss: TaggerLossConfig = field(default_factory=TaggerLossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RefRunConfig = field(default_factory=lambda: RefRunConfig(output_dir="runs/tagger"))
    balance_power: float = 0.0
    init_from: str | None = None


def _fill_labels(model: TaggerConfig) -> None:
    world = world_label_sets()
    model.events = model.events or list(world.events)
    model.instruments = model.instruments or list(world.instruments)
    voices = model.voices if model.voices and model.voices != ["none"] else list(world.voices)
    model.voices = voices


class _Targets:
    """Dense targets of every training clip."""

    def __init__(self, targets: list[ClipTargets], config: TaggerConfig) -> None:
        self.events = np.zeros((len(targets), len(config.events)), dtype=np.float32)
        self.instruments = np.zeros((len(targets), len(config.instruments)), dtype=np.float32)
        for row, target in enumerate(targets):
            self.events[row, list(target.events)] = 1.0
            self.instruments[row, list(target.instruments)] = 1.0
        self.voice = np.array([t.voice for t in targets], dtype=np.int64)
        self.gender = np.array([t.gender for t in targets], dtype=np.int64)


def balanced_weights(events: np.ndarray, power: float, columns: np.ndarray | None = None
                     ) -> np.ndarray:
    """(N,) sampling weights from (N, K) 0/1 event targets: (median count / count of the clip's
    rarest label) ** power, the median taken over labels that occur. Only the labels of the
    (K,) bool `columns` count (default: all): the coarse speech / music labels and the beds are
    left out, so speech and music clips, which have no sound event, count as one of median
    frequency rather than starving the voice and instrument heads."""
    if columns is not None:
        events = events[:, np.asarray(columns, dtype=bool)]
    counts = events.sum(axis=0)
    median = float(np.median(counts[counts > 0])) if np.any(counts > 0) else 1.0
    rarest = np.where(events > 0, counts[None, :], np.inf).min(axis=1)
    rarest = np.where(np.isfinite(rarest), rarest, median)
    return (median / rarest) ** power


def tagger_loss(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
                weights: TaggerLossConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of the head losses (see the module docstring) and each term for logging."""
    terms = {
        "event": F.binary_cross_entropy_with_logits(logits["event"], targets["event"],
                                                    reduction="sum") / len(targets["event"]),
        "instrument": F.binary_cross_entropy_with_logits(
            logits["instrument"], targets["instrument"], reduction="sum") / len(targets["event"]),
    }
    for head in ("voice", "gender"):
        known = targets[head] != IGNORE
        terms[head] = (F.cross_entropy(logits[head][known], targets[head][known])
                       if bool(known.any()) else logits[head].sum() * 0.0)
    total = sum(getattr(weights, head) * terms[head] for head in HEADS)
    return total, {head: float(value.detach()) for head, value in terms.items()}


def _validation(caches: list[MelCache]):
    def evaluate(model: nn.Module) -> dict[str, float]:
        scores: dict[str, float] = {}
        for name, codec in (("clean", False), ("codec", True)):
            for cache in caches:
                if codec and cache.codec is None:
                    continue
                mels = [cache.mel(i, codec=codec) for i in range(len(cache))]
                prediction = model.predict_mels(mels)
                found = tagger_scores(prediction, cache.entries)
                tag = f"{Path(cache.manifest).parent.name}/{name}"
                scores[f"{tag}/top1_f1"] = found["top1_macro_f1"]
                if "top1_macro_f1_isolated" in found:
                    scores[f"{tag}/top1_f1_isolated"] = found["top1_macro_f1_isolated"]
                voices = [(e.speaker, i) for i, e in enumerate(cache.entries) if e.speaker]
                if voices:
                    names = prediction.labels["voice"]
                    hits = [names[int(np.argmax(prediction.probabilities["voice"][i]))] == s
                            for s, i in voices]
                    scores[f"{tag}/voice_acc"] = float(np.mean(hits))
        return scores

    return evaluate


def train_tagger(config: TrainTaggerConfig, *, resume: bool = True, show_progress: bool = True) -> Path:
    """Train a tagger; returns the inference-ready folder `run.output_dir/final`.

    Raises:
        UnisonoError: missing data, or a run folder with checkpoints when resume is False.
    """
    if config.run.threads > 0:
        torch.set_num_threads(config.run.threads)
    _fill_labels(config.model)
    with_codec = config.augment.codec_probability > 0
    caches = prepare_caches(training_manifests(config.data), config.data, config.model.mel,
                            with_codec=with_codec, progress=show_progress)
    val_caches = prepare_caches(validation_manifests(config.data), config.data, config.model.mel,
                                with_codec=with_codec, progress=show_progress)
    refs = [(ref.cache, ref.index) for ref in training_clips(caches, config.data)]
    targets = _Targets([clip_targets(caches[c].entries[i], _label_sets(config.model))
                        for c, i in refs], config.model)
    cache_lengths = [cache.lengths() for cache in caches]
    lengths = np.array([cache_lengths[c][i] for c, i in refs])
    weights = None
    if config.balance_power:
        sound_events = set(sound_event_labels(config.model.events))
        weights = balanced_weights(targets.events, config.balance_power,
                                   np.array([name in sound_events for name in config.model.events]))
    plan = BatchPlan(lengths, config.data.batch_size, config.run.seed,
                     group=config.data.bucket_batches, weights=weights)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.run.seed)
        model = Tagger(config.model)
    if config.init_from:
        start = Tagger.from_pretrained(config.init_from)
        for head in HEADS:
            if start.config.labels(head) != config.model.labels(head):
                raise UnisonoError(f"init_from {config.init_from}: its {head!r} labels differ from "
                                   "the config's; copy its label lists into model")
        if config.model.probe is None:  # a fine-tuned CNN needs its aiSFX probe fitted anew
            start = start.without_probe()
        load_state(model, start.state_dict(), Path(config.init_from))
    else:
        mean, std = mel_statistics(caches)
        model.backbone.set_mel_statistics(torch.from_numpy(mean), torch.from_numpy(std))

    def loss_at(net: nn.Module, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        rows = plan.batch(step)
        mels = []
        for k, row in enumerate(rows):
            c, i = refs[row]
            rng = np.random.default_rng([config.run.seed, step, k])
            codec_mel = caches[c].mel(i, codec=True) if caches[c].codec is not None else None
            mels.append(augment(caches[c].mel(i), codec_mel, config.augment, config.model.mel, rng))
        batch, batch_lengths = pad_batch(mels, config.model.mel.floor_value)
        logits, _ = net(batch, batch_lengths)
        wanted = {"event": torch.from_numpy(targets.events[rows]),
                  "instrument": torch.from_numpy(targets.instruments[rows]),
                  "voice": torch.from_numpy(targets.voice[rows]),
                  "gender": torch.from_numpy(targets.gender[rows])}
        return tagger_loss(logits, wanted, config.loss)

    def write_model(net: nn.Module, folder: Path, ema_state, half: bool) -> None:
        net.save_pretrained(folder, half=half, ema_state=ema_state)

    return run_training(name="train-tagger", model=model, config=config, run=config.run,
                        optim=config.optim, loss_at=loss_at, write_model=write_model,
                        evaluate=_validation(val_caches) if val_caches else None, resume=resume,
                        show_progress=show_progress)


def _label_sets(model: TaggerConfig) -> LabelSets:
    return LabelSets(tuple(model.events), tuple(model.instruments), tuple(model.voices),
                     tuple(model.genders))

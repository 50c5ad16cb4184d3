"""Training of the contrastive embedder: `train_clap(config)` behind `unisono train-clap CONFIG`.

Pairs are (clip, one of its captions drawn per step). The frozen text encoder runs once per
distinct caption: pooled states are cached in `data.cache_dir`, so a step costs the audio tower
and two small MLPs. Loss: symmetric InfoNCE (CLIP) whose targets treat clips that share the same
caption text in a batch as matches of each other (recorded clips of one label share a caption).
The audio tower can start from a trained tagger's CNN (`init_audio_from`), and its first
`frozen_stages` stages (stem included) can stay frozen.
With a duration kernel (see `unisono.models.clap`), the log duration predicted from each of a
clip's captions is also regressed on the clip's (`duration_weight`).
Validation: text-to-audio R@1 / R@10 among the validation clips, first caption as the query
(clips sharing that caption text count as each other's match).

Shapes: B batch, W text width, E joint width.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from unisono.errors import UnisonoError
from unisono.models.clap import ContrastiveConfig, ContrastiveEmbedder
from unisono.models.refnet import pad_batch
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
from unisono.refmodels.evaluate import retrieval_recall
from unisono.refmodels.loop import RefRunConfig, run_training
from unisono.training import OptimConfig

TEXT_FEATURES_VERSION = 2  # bump when ContrastiveEmbedder.text_features changes (cache key)


@dataclass
class TrainClapConfig:
    """Everything `unisono train-clap` reads from its YAML file.

    Attributes:
        init_audio_from: a tagger folder whose CNN (and mel statistics) starts the audio tower;
            "shipped" for the shipped tagger, null to start from scratch.
        frozen_stages: CNN stages kept frozen (0: none; 1: the stem; k: stem + k - 1 stages).
        duration_weight: weight of the regression of the prompt's predicted log duration on the
            clip's (trains the text side of the duration kernel; 0 turns it off).
    """

    model: ContrastiveConfig = field(default_factory=ContrastiveConfig)
    data: RefDataConfig = field(default_factory=lambda: RefDataConfig(batch_size=32))
    augment: AugmentConfig = field(default_factory=lambda: AugmentConfig(freq_masks=0, time_masks=0))
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RefRunConfig = field(default_factory=lambda: RefRunConfig(output_dir="runs/clap"))
    init_audio_from: str | None = "shipped"
    frozen_stages: int = 0
    duration_weight: float = 1.0


def clip_captions(cache: MelCache) -> list[list[str]]:
    """Captions of every clip of a cache (a clip without captions raises)."""
    captions = []
    for entry in cache.entries:
        if not entry.captions:
            raise UnisonoError(f"{entry.id} in {cache.manifest} has no captions: the embedder "
                               "trains on captioned clips only")
        captions.append(list(entry.captions))
    return captions


def text_feature_table(model: ContrastiveEmbedder, captions: list[str], cache_dir: str, *,
                       progress: bool = True) -> dict[str, np.ndarray]:
    """Pooled frozen-encoder states (W,) of each distinct caption, cached on disk."""
    distinct = sorted(set(captions))
    settings = [model.config.text_encoder, model.config.text_layer, model.config.length_features]
    key = hashlib.sha1(json.dumps([TEXT_FEATURES_VERSION, settings, distinct]).encode()).hexdigest()[:12]
    path = Path(cache_dir) / f"text-{key}.npy"
    if not path.is_file():
        from tqdm import tqdm

        rows = [model.text_features(c)[0].numpy() for c in tqdm(distinct, desc="text features",
                                                                  unit="caption",
                                                                  disable=not progress)]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, np.stack(rows).astype(np.float32))
        tmp.replace(path)
    table = np.load(path)
    return dict(zip(distinct, table, strict=True))


def contrastive_loss(logits: torch.Tensor, captions: list[str]) -> torch.Tensor:
    """Symmetric InfoNCE on (B, B) audio-by-text logits; equal captions are all positives."""
    same = torch.tensor([[a == b for b in captions] for a in captions], dtype=logits.dtype)
    targets = same / same.sum(dim=1, keepdim=True)
    audio_to_text = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    text_to_audio = -(targets * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return 0.5 * (audio_to_text + text_to_audio)


def _frozen_modules(model: ContrastiveEmbedder, stages: int) -> list[nn.Module]:
    modules: list[nn.Module] = [model.backbone.stem, *model.backbone.stages][:stages]
    for module in modules:
        module.requires_grad_(False)
    return modules


def _validation(caches: list[MelCache], table: dict[str, np.ndarray]):
    def evaluate(model: nn.Module) -> dict[str, float]:
        scores = {}
        for cache in caches:
            queries = torch.from_numpy(np.stack([table[e.captions[0]] for e in cache.entries]))
            with torch.no_grad():
                text = model.text_embedding(queries).numpy()
            audio = model.embed_mels([cache.mel(i) for i in range(len(cache))])
            found = retrieval_recall(text @ audio.T, ks=(1, 10),
                                     groups=[e.captions[0] for e in cache.entries])
            for name, value in found.items():
                scores[f"{Path(cache.manifest).parent.name}/{name}"] = value
        return scores

    return evaluate


def train_clap(config: TrainClapConfig, *, resume: bool = True, show_progress: bool = True) -> Path:
    """Train a contrastive embedder; returns the inference-ready folder `run.output_dir/final`.

    Raises:
        UnisonoError: missing data, an `init_audio_from` folder that does not fit, or a run folder
            with checkpoints when resume is False.
    """
    if config.run.threads > 0:
        torch.set_num_threads(config.run.threads)
    with_codec = config.augment.codec_probability > 0
    caches = prepare_caches(training_manifests(config.data), config.data, config.model.mel,
                            with_codec=with_codec, progress=show_progress)
    val_caches = prepare_caches(validation_manifests(config.data), config.data, config.model.mel,
                                with_codec=False, progress=show_progress)
    refs = [(ref.cache, ref.index) for ref in training_clips(caches, config.data)]
    cache_captions = [clip_captions(cache) for cache in caches]
    per_clip = [cache_captions[c][i] for c, i in refs]
    captions = [c for per_cache in cache_captions for options in per_cache for c in options]
    captions += [c for cache in val_caches for options in clip_captions(cache) for c in options]
    cache_lengths = [cache.lengths() for cache in caches]
    lengths = np.array([cache_lengths[c][i] for c, i in refs])
    plan = BatchPlan(lengths, config.data.batch_size, config.run.seed,
                     group=config.data.bucket_batches)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.run.seed)
        model = ContrastiveEmbedder(config.model)
    if config.init_audio_from:
        from unisono.models.tagger import Tagger

        source = None if config.init_audio_from == "shipped" else config.init_audio_from
        try:
            model.backbone.load_state_dict(Tagger.from_pretrained(source).backbone.state_dict())
        except RuntimeError as err:
            raise UnisonoError(f"init_audio_from {config.init_audio_from}: its CNN does not fit "
                               f"model.backbone ({err}); copy its backbone settings") from err
    else:
        mean, std = mel_statistics(caches)
        model.backbone.set_mel_statistics(torch.from_numpy(mean), torch.from_numpy(std))
    frozen = _frozen_modules(model, config.frozen_stages)
    table = text_feature_table(model, captions, config.data.cache_dir, progress=show_progress)

    def loss_at(net: nn.Module, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        for module in frozen:  # frozen layers keep their batch-norm statistics too
            module.eval()
        mels, chosen = [], []
        rows = plan.batch(step)
        for k, row in enumerate(rows):
            c, i = refs[row]
            rng = np.random.default_rng([config.run.seed, step, k])
            codec_mel = caches[c].mel(i, codec=True) if caches[c].codec is not None else None
            mels.append(augment(caches[c].mel(i), codec_mel, config.augment, config.model.mel, rng))
            options = per_clip[row]
            chosen.append(options[int(rng.integers(len(options)))])
        batch, batch_lengths = pad_batch(mels, config.model.mel.floor_value)
        audio = net.audio_embedding(batch, batch_lengths)
        features = torch.from_numpy(np.stack([table[c] for c in chosen]))
        infonce = contrastive_loss(net.logits(audio, net.text_embedding(features)), chosen)
        terms = {"infonce": float(infonce.detach()),
                 "temperature": float(1.0 / net.logit_scale.detach().exp())}
        loss = infonce
        if config.model.duration_frequencies and config.duration_weight > 0:
            # every caption of the batch's clips: the text-only head is cheap, and more samples
            # per step let it learn in as many steps as the towers
            log_seconds = torch.log(batch_lengths.float() / config.model.mel.frames_per_second)
            options = [per_clip[row] for row in rows]
            every = torch.from_numpy(np.stack([table[c] for o in options for c in o]))
            target = torch.repeat_interleave(log_seconds, torch.tensor([len(o) for o in options]))
            duration = F.mse_loss(net.text_log_duration(every), target)
            loss = loss + config.duration_weight * duration
            terms.update(duration=float(duration.detach()),
                         duration_share=float(torch.sigmoid(net.duration_mix.detach())))
        return loss, terms

    def write_model(net: nn.Module, folder: Path, ema_state, half: bool) -> None:
        net.save_pretrained(folder, half=half, ema_state=ema_state)

    return run_training(name="train-clap", model=model, config=config, run=config.run,
                        optim=config.optim, loss_at=loss_at, write_model=write_model,
                        evaluate=_validation(val_caches, table) if val_caches else None,
                        resume=resume, show_progress=show_progress)

"""Training entry of the codec: `train_codec(config)` behind `unisono train-codec CONFIG`.

Shapes: B batch, S crop samples, C latent channels, T latent frames.

Every random choice is seeded by (seed, step): batch `step` is made of items `step * B + i`, each
drawn with `numpy.random.default_rng([seed, index])`, and the posterior noise of step `step` comes
from a torch generator seeded with (seed, step). A resumed run therefore replays exactly the steps
an uninterrupted run would have taken, whatever the number of DataLoader workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import load_file

from unisono.audio import resample
from unisono.config import config_to_dict, save_config
from unisono.data.manifest import read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.files import save_tensors
from unisono.models.codec import Codec, CodecConfig
from unisono.models.codec.discriminator import MultiResolutionSTFTDiscriminator
from unisono.models.codec.losses import (
    CodecLossConfig,
    CodecReconstructionLoss,
    discriminator_hinge_loss,
    feature_matching_loss,
    generator_hinge_loss,
)
from unisono.models.codec.model import EMA_FILE, MODEL_FILE
from unisono.models.pretrained import read_model_config
from unisono.training import (
    EMA,
    MetricLogger,
    NonFiniteGuard,
    OptimConfig,
    build_optimizer,
    clip_gradients,
    cosine_schedule,
    latest_checkpoint,
    load_trainer_state,
    progress_bar,
    save_checkpoint,
)

DISCRIMINATOR_FILE = "discriminator.safetensors"
_SCALE_STREAM = 1 << 40  # item indices reserved for latent-scale estimation


@dataclass
class CodecDataConfig:
    """Where training crops come from.

    Attributes:
        manifests: JSONL manifests; every clip is a source of random crops (weighted by duration).
        crop_seconds: crop length.
        batch_size: crops per step.
        num_workers: DataLoader worker processes (0 loads in the main process).
        min_rms_db: crops quieter than this are redrawn (up to 8 times).
    """

    manifests: list[str] = field(default_factory=list)
    crop_seconds: float = 1.0
    batch_size: int = 8
    num_workers: int = 2
    min_rms_db: float = -60.0


@dataclass
class CodecRunConfig:
    """Run bookkeeping.

    Attributes:
        output_dir: run folder (checkpoints/, metrics.csv, final/).
        max_steps: total optimisation steps.
        seed: seeds the initialisation, data and posterior noise.
        checkpoint_every: steps between checkpoints.
        keep_last: checkpoints kept.
        log_every: steps between CSV rows.
        tensorboard: also write TensorBoard events when tensorboard is installed.
        threads: torch CPU threads (0 keeps torch's default).
        scale_batches: batches encoded to estimate the latent scale at each checkpoint.
        init_from: a codec folder (e.g. the shipped one) whose weights start a new run (fine-tuning
            or continuing a run whose optimizer state was not kept); ignored when resuming.
        freeze_encoder: train the decoder only and keep init_from's latent scale, so the latent
            space (and every generator trained on it) stays valid; needs init_from.
    """

    output_dir: str = "runs/codec-tiny"
    max_steps: int = 20000
    seed: int = 0
    checkpoint_every: int = 500
    keep_last: int = 3
    log_every: int = 10
    tensorboard: bool = True
    threads: int = 0
    scale_batches: int = 4
    init_from: str | None = None
    freeze_encoder: bool = False


@dataclass
class DiscriminatorConfig:
    """The optional multi-resolution STFT discriminator (active when loss.adversarial > 0).

    Attributes:
        channels: conv channels per sub-discriminator.
        start_step: generator steps before the adversarial terms switch on.
        lr: discriminator learning rate.
    """

    channels: int = 32
    start_step: int = 0
    lr: float = 2e-4


@dataclass
class TrainCodecConfig:
    """Everything `unisono train-codec` reads from its YAML file."""

    model: CodecConfig = field(default_factory=CodecConfig)
    loss: CodecLossConfig = field(default_factory=CodecLossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: CodecDataConfig = field(default_factory=CodecDataConfig)
    run: CodecRunConfig = field(default_factory=CodecRunConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)


# ----- data -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clip:
    path: str
    frames: int
    sample_rate: int


def collect_clips(manifests: list[str]) -> list[_Clip]:
    """Every readable audio file listed by the manifests, with its length and rate."""
    if not manifests:
        raise UnisonoError(
            "no training manifests: set data.manifests in the config "
            "(or --set data.manifests=[path.jsonl])."
        )
    clips = []
    for manifest in manifests:
        for entry in read_manifest(manifest):
            path = resolve_path(entry, manifest)
            try:
                info = sf.info(str(path))
            except (sf.LibsndfileError, RuntimeError) as err:
                raise UnisonoError(f"cannot read {path} listed in {manifest}: {err}") from err
            if info.frames > 0:
                clips.append(_Clip(str(path), int(info.frames), int(info.samplerate)))
    if not clips:
        raise UnisonoError(f"the manifests {manifests} list no non-empty audio")
    return clips


class CropDataset(torch.utils.data.Dataset):
    """Item `index` is a random crop drawn with `default_rng([seed, index])`: (S,) float32."""

    def __init__(
        self,
        clips: list[_Clip],
        *,
        sample_rate: int,
        crop_seconds: float,
        seed: int,
        min_rms_db: float = -60.0,
    ):
        self.clips = clips
        self.sample_rate = sample_rate
        self.crop_samples = int(round(crop_seconds * sample_rate))
        self.seed = seed
        self.min_rms = 10.0 ** (min_rms_db / 20.0)
        weights = np.array([c.frames / c.sample_rate for c in clips], dtype=np.float64)
        self.probabilities = weights / weights.sum()

    def __len__(self) -> int:
        return 1 << 62

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        clip = self.clips[int(rng.choice(len(self.clips), p=self.probabilities))]
        need = int(math.ceil(self.crop_samples * clip.sample_rate / self.sample_rate)) + 64
        start = int(rng.integers(0, max(clip.frames - need, 0) + 1))
        audio, _ = sf.read(clip.path, start=start, frames=need, dtype="float32", always_2d=True)
        audio = resample(audio.mean(axis=1), clip.sample_rate, self.sample_rate)
        audio = audio[: self.crop_samples]
        return np.pad(audio, (0, self.crop_samples - audio.shape[0]))

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, int(index)])
        for _ in range(8):
            crop = self._draw(rng)
            if float(np.sqrt(np.mean(np.square(crop)))) >= self.min_rms:
                break
        return torch.from_numpy(np.ascontiguousarray(crop, dtype=np.float32))


class _StepBatches(torch.utils.data.Sampler):
    """Yields the item indices of steps start .. stop - 1 (batch `step` = items step*B .. +B-1)."""

    def __init__(self, start: int, stop: int, batch_size: int, offset: int = 0):
        self.start, self.stop, self.batch_size, self.offset = start, stop, batch_size, offset

    def __len__(self) -> int:
        return max(self.stop - self.start, 0)

    def __iter__(self):
        for step in range(self.start, self.stop):
            base = self.offset + step * self.batch_size
            yield list(range(base, base + self.batch_size))


def _loader(
    dataset: CropDataset, start: int, stop: int, batch_size: int, workers: int, offset: int = 0
) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=_StepBatches(start, stop, batch_size, offset),
        num_workers=workers,
        persistent_workers=False,
    )


# ----- training -------------------------------------------------------------------------------
@torch.no_grad()
def estimate_latent_scale(model: Codec, batches: list[torch.Tensor]) -> float:
    """1 / std of the posterior means over some batches, so scaled latents have unit variance."""
    means = [
        model.bottleneck(model.encoder(model._pad_to_hop(b)), sample=False).mean for b in batches
    ]
    std = float(torch.cat([m.flatten() for m in means]).std())
    return 1.0 / max(std, 1e-6)


def _noise_generator(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def _fitting_decoder_state(
    model: Codec, state: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """`state` without the decoder tensors `model` lacks or has in another shape.

    Returns the filtered state and the names of the model's decoder tensors left as initialised.
    The encoder and bottleneck must fit exactly (they define the frozen latent space).
    """
    own = model.state_dict()
    kept = {
        name: value
        for name, value in state.items()
        if not name.startswith("decoder.") or (name in own and own[name].shape == value.shape)
    }
    missing = [n for n in own if n not in kept]
    frozen = [n for n in missing if not n.startswith("decoder.")]
    if frozen:
        raise UnisonoError(
            f"run.freeze_encoder keeps init_from's encoder, but these encoder tensors do not fit "
            f"the model: {', '.join(frozen[:5])}. Keep model.frame's encoder settings."
        )
    return kept, missing


def train_codec(
    config: TrainCodecConfig, *, resume: bool = True, show_progress: bool = True
) -> Path:
    """Train a codec; returns the inference-ready folder `output_dir/final`.

    Args:
        config: the full training config.
        resume: continue from the newest checkpoint in `output_dir/checkpoints` when there is one;
            when False and checkpoints exist, refuse (pick another output_dir).
        show_progress: show a tqdm bar with steps/s and ETA.

    Raises:
        UnisonoError: bad data, a run folder that already has checkpoints with resume=False, or a
            loss that stays non-finite.
    """
    run = config.run
    if run.threads > 0:
        torch.set_num_threads(run.threads)
    run_dir = Path(run.output_dir)
    checkpoint_dir = run_dir / "checkpoints"
    last = latest_checkpoint(checkpoint_dir)
    if last is not None and not resume:
        raise UnisonoError(
            f"{run_dir} already holds checkpoints: resume it (drop --no-resume) or "
            "choose another run.output_dir."
        )
    clips = collect_clips(config.data.manifests)
    dataset = CropDataset(
        clips,
        sample_rate=config.model.sample_rate,
        crop_seconds=config.data.crop_seconds,
        seed=run.seed,
        min_rms_db=config.data.min_rms_db,
    )

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.seed)
        model = Codec(config.model)
        discriminator = (
            MultiResolutionSTFTDiscriminator(
                tuple(config.loss.stft_resolutions), config.discriminator.channels
            )
            if config.loss.adversarial > 0
            else None
        )
    recon_loss = CodecReconstructionLoss(config.loss, sample_rate=config.model.sample_rate)
    if run.freeze_encoder:
        if not run.init_from and last is None:
            raise UnisonoError(
                "run.freeze_encoder keeps an existing latent space: set run.init_from to the codec "
                "whose encoder to keep (e.g. src/unisono/assets/codec)."
            )
        model.encoder.requires_grad_(False)
        model.bottleneck.requires_grad_(False)
    optimizer = build_optimizer(model, config.optim)
    scheduler = cosine_schedule(
        optimizer,
        warmup_steps=config.optim.warmup_steps,
        total_steps=run.max_steps,
        min_lr_ratio=config.optim.min_lr_ratio,
    )
    ema = EMA(model, config.optim.ema_decay)
    disc_optimizer = (
        torch.optim.AdamW(
            discriminator.parameters(), lr=config.discriminator.lr, betas=config.optim.betas
        )
        if discriminator
        else None
    )
    step = 0
    if last is None and run.init_from:
        start = Codec.from_pretrained(run.init_from)
        if start.config.architecture != config.model.architecture:
            raise UnisonoError(f"run.init_from {run.init_from} is a {start.config.architecture} codec "
                               f"but model.architecture is {config.model.architecture}")
        state = start.state_dict()
        if run.freeze_encoder:  # a new decoder design may keep only the parts that fit
            state, fresh = _fitting_decoder_state(model, state)
            if fresh:
                print(f"[train-codec] decoder tensors initialised fresh (not in {run.init_from} "
                      f"or of another shape): {', '.join(fresh)}")
        try:
            model.load_state_dict(state, strict=not run.freeze_encoder)
        except RuntimeError as err:
            raise UnisonoError(f"run.init_from {run.init_from} does not fit model: {err}") from err
        if run.freeze_encoder:
            model.config.latent_scale = start.config.latent_scale
        ema = EMA(model, config.optim.ema_decay)
    if last is not None:
        state = load_trainer_state(last)
        try:
            model.load_state_dict(load_file(str(last / MODEL_FILE)))
            ema.load_state_dict(load_file(str(last / EMA_FILE)))
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if discriminator is not None:
                discriminator.load_state_dict(load_file(str(last / DISCRIMINATOR_FILE)))
                disc_optimizer.load_state_dict(state["disc_optimizer"])
        except (RuntimeError, KeyError, ValueError, OSError) as err:
            raise UnisonoError(
                f"cannot resume from {last}: it does not fit this config ({err}). Keep the "
                "run's model / loss settings, or train into a new run.output_dir."
            ) from err
        step = int(state["step"])
        if run.freeze_encoder:
            model.config.latent_scale = read_model_config(last, CodecConfig, what="codec").latent_scale
    save_config(config, run_dir / "train_config.yaml")
    logger = MetricLogger(run_dir, tensorboard=run.tensorboard, resume_step=step)
    guard = NonFiniteGuard(config.optim.max_nonfinite_steps)
    scale_batches = [
        b
        for b in _loader(
            dataset, 0, run.scale_batches, config.data.batch_size, 0, offset=_SCALE_STREAM
        )
    ]

    def checkpoint(at_step: int) -> Path:
        def write(folder: Path) -> None:
            with torch.random.fork_rng(devices=[]):
                ema_model = Codec(config.model)
            ema.copy_to(ema_model)
            if run.freeze_encoder:  # the latent space is fixed: keep its scale
                ema_model.config.latent_scale = model.config.latent_scale
            else:
                ema_model.config.latent_scale = estimate_latent_scale(ema_model, scale_batches)
            model.config.latent_scale = ema_model.config.latent_scale
            model.save_pretrained(folder, ema_state=ema.state_dict())
            if discriminator is not None:
                save_tensors(
                    {k: v.contiguous() for k, v in discriminator.state_dict().items()},
                    str(folder / DISCRIMINATOR_FILE),
                )

        trainer_state = {
            "step": at_step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "data_next_item": at_step * config.data.batch_size,
            "config": config_to_dict(config),
        }
        if disc_optimizer is not None:
            trainer_state["disc_optimizer"] = disc_optimizer.state_dict()
        return save_checkpoint(
            checkpoint_dir,
            at_step,
            trainer_state=trainer_state,
            write_files=write,
            keep_last=run.keep_last,
        )

    bar = (
        progress_bar(start=step, total=run.max_steps, description="train-codec")
        if show_progress
        else None
    )
    model.train()
    for batch in _loader(
        dataset, step, run.max_steps, config.data.batch_size, config.data.num_workers
    ):
        output = model(batch, sample=True, generator=_noise_generator(run.seed, step))
        loss, terms = recon_loss(output.audio, batch, output.kl)
        adversarial = discriminator is not None and step >= config.discriminator.start_step
        if adversarial:
            # The generator's terms need gradients through the discriminator, not of its weights.
            discriminator.requires_grad_(False)
            fake_logits, fake_features = discriminator(output.audio)
            with torch.no_grad():
                _, real_features = discriminator(batch)
            terms["adv"] = generator_hinge_loss(fake_logits)
            terms["fm"] = feature_matching_loss(real_features, fake_features)
            loss = (
                loss
                + config.loss.adversarial * terms["adv"]
                + config.loss.feature_matching * terms["fm"]
            )
        optimizer.zero_grad(set_to_none=True)
        if guard.ok(loss, step=step):
            loss.backward()
            grad_norm = clip_gradients(model.parameters(), config.optim.grad_clip)
            if guard.ok(grad_norm, step=step):
                optimizer.step()
            if adversarial:
                discriminator.requires_grad_(True)
                real_logits, _ = discriminator(batch)
                fake_logits, _ = discriminator(output.audio.detach())
                disc_loss = discriminator_hinge_loss(real_logits, fake_logits)
                disc_optimizer.zero_grad(set_to_none=True)
                disc_loss.backward()
                disc_optimizer.step()
                terms["disc"] = disc_loss
        else:
            grad_norm = float("nan")
        scheduler.step()
        step += 1
        ema.update(model, step)
        if step % run.log_every == 0 or step == run.max_steps:
            row = {name: float(value.detach()) for name, value in terms.items()}
            row.update(
                loss=float(loss.detach()),
                grad_norm=grad_norm,
                lr=scheduler.get_last_lr()[0],
                skipped=guard.skipped,
            )
            logger.log(step, row)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(
                loss=f"{float(loss.detach()):.3f}", mel=f"{float(terms['mel'].detach()):.3f}"
            )
        if step % run.checkpoint_every == 0 or step == run.max_steps:
            checkpoint(step)
    if bar is not None:
        bar.close()
    logger.close()
    final_checkpoint = latest_checkpoint(checkpoint_dir) or checkpoint(step)
    final = run_dir / "final"
    inference = Codec.from_pretrained(final_checkpoint, weights="model")
    ema_state = load_file(str(final_checkpoint / EMA_FILE))
    inference.save_pretrained(final, ema_state=ema_state)
    return final

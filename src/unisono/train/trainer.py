"""`unisono train`: the generator trainer (flow matching on codec latents, every registered task).

One process on a CPU or one of many under torchrun; checkpoints are atomic and resume is exact (a
batch is a pure function of (seed, step), noise and flow times come from a generator seeded by the
step). The run folder holds checkpoints/, metrics.csv (+ TensorBoard), train_config.yaml and, at
the end, final/: a model folder that `Unisono.from_pretrained` loads.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from unisono.codec_files import load_codec
from unisono.config import config_to_dict, save_config
from unisono.data.manifest import read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.flow import FlowMatching
from unisono.models.dit import DiT
from unisono.models.pretrained import EMA_FILE
from unisono.models.text_encoder import TextEncoder
from unisono.tasks import ClipPool, get_task
from unisono.train.batches import BatchAssembler, ExampleSampler, GeneratorBatch
from unisono.train.config import TrainGeneratorConfig
from unisono.train.latents import LatentCache
from unisono.training import (
    EMA,
    MetricLogger,
    NonFiniteGuard,
    build_optimizer,
    clip_gradients,
    cosine_schedule,
    latest_checkpoint,
    load_trainer_state,
    progress_bar,
    save_checkpoint,
)

EMA_EVERY = 10  # UNISON: EMA 0.999 updated every 10 steps


def load_pool(config: TrainGeneratorConfig) -> tuple[ClipPool, list]:
    """Read the manifests into a clip pool; returns it and (entry, path) pairs for the cache."""
    if not config.data.manifests:
        raise UnisonoError("data.manifests is empty: list at least one manifest (JSONL).")
    entries, pairs, seen = [], [], {}
    for manifest in config.data.manifests:
        for entry in read_manifest(manifest):
            if entry.id in seen:
                raise UnisonoError(
                    f"clip id {entry.id!r} appears in {seen[entry.id]} and {manifest}; ids must be "
                    "unique across the training manifests."
                )
            seen[entry.id] = manifest
            entries.append(entry)
            pairs.append((entry, resolve_path(entry, manifest)))
    return ClipPool(entries, sample_rate=0, max_seconds=config.data.max_seconds), pairs


def cached_clips(config: TrainGeneratorConfig, pool: ClipPool, pairs: list) -> list:
    """The (entry, path) pairs whose whole-clip latents some configured task reads."""
    kinds = set()
    for name, weight in config.tasks.items():
        task = get_task(name)
        if weight > 0 and task.uses_latent_cache:
            kinds.update(task.kinds)
    usable = {entry.id for entry in pool.of_kinds(sorted(kinds))}
    return [(entry, path) for entry, path in pairs if entry.id in usable]


def generator_loss(
    model: DiT, batch: GeneratorBatch, flow: FlowMatching, *, generator: torch.Generator,
    duration_weight: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Flow-matching loss on the loss-masked frames plus the duration predictor's log-L1."""
    example = flow.training_example(batch.latent, generator=generator)
    terms: dict[str, torch.Tensor] = {}
    content = None
    if batch.content_symbols is not None:
        symbol_mask = batch.content_symbols > 0
        content, log_frames, _ = model.encode_content(
            batch.content_symbols, batch.content_pitch, symbol_mask,
            total_frames=batch.latent.shape[-1], frames=batch.content_frames,
        )
        # FastSpeech2-style log-duration L1 on symbols that last at least one frame.
        timed = symbol_mask & (batch.content_frames > 0)
        error = (log_frames - batch.content_frames.clamp(min=1).float().log()).abs()
        terms["content_duration"] = (error * timed).sum() / timed.sum().clamp(min=1)
    velocity = model(
        example.noised,
        example.flow_time,
        text_states=batch.text_states,
        text_mask=batch.text_mask,
        source_latent=batch.source_latent,
        task_tag=batch.task_tag,
        frame_mask=batch.frame_mask,
        content=content,
        content_mask=batch.content_mask,
    )
    flow_loss = flow.loss(velocity, example, batch.loss_mask)
    predicted = model.duration(batch.text_states[-1], batch.text_mask)
    error = (predicted - batch.durations.clamp(min=0.1).log()).abs()
    kept = batch.kept.to(error.dtype)
    duration_loss = (error * kept).sum() / kept.sum().clamp(min=1.0)
    total = flow_loss + duration_weight * duration_loss + terms.get("content_duration", 0.0)
    return total, {"flow": flow_loss, "duration": duration_loss, **terms}


def train_generator(
    config: TrainGeneratorConfig, *, resume: bool = True, show_progress: bool = True
) -> Path:
    """Train the generator; returns the model folder `output_dir/final`.

    Raises:
        UnisonoError: bad data or config, or a run folder with checkpoints and resume=False.
    """
    from unisono.pipeline import write_model_folder  # the API module imports the trainer's tasks

    run = config.run
    if run.threads > 0:
        torch.set_num_threads(run.threads)
    run_dir = Path(run.output_dir)
    checkpoint_dir = run_dir / "checkpoints"
    last = latest_checkpoint(checkpoint_dir)
    if last is not None and not resume:
        raise UnisonoError(
            f"{run_dir} already holds checkpoints: resume it (drop --no-resume) or choose another "
            "run.output_dir."
        )
    codec = load_codec(run.codec or None).eval().requires_grad_(False)
    if codec.config.latent_channels != config.model.latent_channels:
        raise UnisonoError(
            f"model.latent_channels is {config.model.latent_channels} but the codec has "
            f"{codec.config.latent_channels}; set model.latent_channels={codec.config.latent_channels}."
        )
    text_encoder = TextEncoder.from_pretrained(run.text_encoder or None)
    if (text_encoder.num_layers, text_encoder.width) != (
        config.model.text_layers, config.model.text_width
    ):
        raise UnisonoError(
            f"the text encoder has {text_encoder.num_layers} layers of width {text_encoder.width}; "
            f"set model.text_layers={text_encoder.num_layers} model.text_width={text_encoder.width}."
        )
    pool, pairs = load_pool(config)
    cache = LatentCache(config.data.latent_cache or run_dir / "latents", codec)
    cache.build(cached_clips(config, pool, pairs), show_progress=show_progress)
    sampler = ExampleSampler(config.tasks, pool, seed=run.seed)
    assembler = BatchAssembler(
        config=config.data, codec=codec, text_encoder=text_encoder, cache=cache
    )
    flow = FlowMatching(time_mean=config.flow.time_mean, time_std=config.flow.time_std)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.seed)
        model = DiT(config.model)
    if last is None and run.init_from:
        model.load_state_dict(DiT.from_pretrained(run.init_from).state_dict())
    optimizer = build_optimizer(model, config.optim)
    scheduler = cosine_schedule(
        optimizer,
        warmup_steps=config.optim.warmup_steps,
        total_steps=run.max_steps,
        min_lr_ratio=config.optim.min_lr_ratio,
    )
    ema = EMA(model, config.optim.ema_decay)
    step = 0
    if last is not None:
        state = load_trainer_state(last)
        try:
            model.load_state_dict(load_file(str(last / "model.safetensors")))
            ema.load_state_dict(load_file(str(last / EMA_FILE)))
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, KeyError, ValueError, OSError) as err:
            raise UnisonoError(
                f"cannot resume from {last}: it does not fit this config ({err}). Keep the run's "
                "model settings, or train into a new run.output_dir."
            ) from err
        step = int(state["step"])
    save_config(config, run_dir / "train_config.yaml")
    logger = MetricLogger(run_dir, tensorboard=run.tensorboard, resume_step=step)
    guard = NonFiniteGuard(config.optim.max_nonfinite_steps)

    def checkpoint(at_step: int) -> Path:
        trainer_state = {
            "step": at_step,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "config": config_to_dict(config),
        }
        return save_checkpoint(
            checkpoint_dir,
            at_step,
            trainer_state=trainer_state,
            write_files=lambda folder: model.save_pretrained(folder, ema_state=ema.state_dict()),
            keep_last=run.keep_last,
        )

    bar = progress_bar(start=step, total=run.max_steps, description="train") if show_progress else None
    model.train()
    while step < run.max_steps:
        batch = assembler.assemble(
            sampler.examples(step, config.data.batch_size), step=step, seed=run.seed
        )
        noise_generator = torch.Generator().manual_seed(run.seed * 1_000_003 + step)
        loss, terms = generator_loss(
            model, batch, flow, generator=noise_generator,
            duration_weight=config.flow.duration_weight,
        )
        optimizer.zero_grad(set_to_none=True)
        grad_norm = float("nan")
        if guard.ok(loss, step=step):
            loss.backward()
            grad_norm = clip_gradients(model.parameters(), config.optim.grad_clip)
            if guard.ok(grad_norm, step=step):
                optimizer.step()
        scheduler.step()
        step += 1
        if step % EMA_EVERY == 0:
            ema.update(model, step // EMA_EVERY)
        if step % run.log_every == 0 or step == run.max_steps:
            row = {"content_duration": float("nan")}  # TA batches only; a column from row one
            row.update({name: float(value.detach()) for name, value in terms.items()})
            # Every task has a column from the first row on (the CSV's columns are fixed then).
            row.update({f"flow/{name}": float("nan") for name in sampler.names})
            row[f"flow/{batch.task}"] = row["flow"]
            row.update(
                loss=float(loss.detach()), grad_norm=grad_norm, lr=scheduler.get_last_lr()[0],
                skipped=guard.skipped,
            )
            logger.log(step, row)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(task=batch.task, flow=f"{float(terms['flow'].detach()):.3f}")
        if step % run.checkpoint_every == 0 or step == run.max_steps:
            checkpoint(step)
    if bar is not None:
        bar.close()
    logger.close()
    final_checkpoint = latest_checkpoint(checkpoint_dir) or checkpoint(step)
    return write_model_folder(
        run_dir / "final",
        generator_dir=final_checkpoint,
        codec_dir=run.codec or None,
        text_encoder=run.text_encoder or None,
        tasks=sorted(name for name, weight in config.tasks.items() if weight > 0),
    )

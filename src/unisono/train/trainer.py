"""`unisono train`: the generator trainer (flow matching on codec latents, every registered task).

One process on a CPU or one of many under torchrun; checkpoints are atomic and resume is exact (a
batch is a pure function of (seed, step), noise and flow times come from a generator seeded by the
step). The run folder holds checkpoints/, metrics.csv (+ TensorBoard; with `data.val_manifests` the
val/<task> columns hold held-out losses, `unisono.train.validation`), train_config.yaml and, at
the end, final/: a model folder that `Unisono.from_pretrained` loads.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from unisono.codec_files import load_codec
from unisono.config import config_to_dict, save_config
from unisono.data.manifest import read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.flow import FlowMatching
from unisono.flow.path import check_source_output
from unisono.model_folder import generator_folder, model_dir
from unisono.models.dit import DiT
from unisono.models.dit.config import DiTConfig
from unisono.models.dit.grow import grow_from
from unisono.models.dit.model import later_parts
from unisono.models.pretrained import (
    EMA_FILE,
    load_model_weights,
    read_model_config,
    save_model_folder,
)
from unisono.models.text_encoder import TextEncoder
from unisono.tasks import ClipPool, check_source_prior, get_task
from unisono.tasks.symbols import SYMBOLS
from unisono.train.batches import BatchAssembler, ExampleSampler
from unisono.train.config import TrainGeneratorConfig, source_prior_of
from unisono.train.distributed import (
    average,
    barrier,
    full_state_dict,
    gathered,
    load_optimizer_state,
    optimizer_state,
    setup_processes,
    sharded_like,
    teardown,
    wrap_model,
)
from unisono.train.latents import LatentCache
from unisono.train.loader import ExampleStream, batch_stream
from unisono.train.objective import GeneratorObjective, caption_example, flow_example
from unisono.train.validation import HeldOutLoss, build_held_out, check_disjoint, val_column
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


def load_pool(config: TrainGeneratorConfig, manifests: list[str] | None = None,
              *, key: str = "data.manifests") -> tuple[ClipPool, list]:
    """Read manifests (default: the training ones) into a clip pool; returns it and
    (entry, path) pairs for the cache. `key` names the manifests in error messages."""
    manifests = config.data.manifests if manifests is None else manifests
    if not manifests:
        raise UnisonoError(f"{key} is empty: list at least one manifest (JSONL).")
    entries, pairs, seen = [], [], {}
    for manifest in manifests:
        for entry in read_manifest(manifest):
            if entry.id in seen:
                raise UnisonoError(
                    f"clip id {entry.id!r} appears in {seen[entry.id]} and {manifest}; ids must be "
                    f"unique across {key}."
                )
            seen[entry.id] = manifest
            entries.append(entry)
            pairs.append((entry, resolve_path(entry, manifest)))
    pool = ClipPool(
        entries, sample_rate=0, max_seconds=config.data.max_seconds,
        paths={entry.id: path for entry, path in pairs},
        caption_choice=config.data.caption_choice,
    )
    return pool, pairs


def cached_clips(config: TrainGeneratorConfig, pool: ClipPool, pairs: list) -> list:
    """The (entry, path) pairs whose whole-clip latents some configured task reads."""
    kinds = set()
    for name, weight in config.tasks.items():
        task = get_task(name)
        if weight > 0 and task.uses_latent_cache:
            kinds.update(task.kinds)
    usable = {entry.id for entry in pool.cacheable(sorted(kinds))}
    return [(entry, path) for entry, path in pairs if entry.id in usable]


def init_folder(path: str) -> Path:
    """The generator folder `run.init_from` names: a generator folder itself, a model folder
    (the final/ folder of a run, or an exported one) through its generator/ subfolder, or the word
    "default" for the shipped model (fine-tune it on more tasks or your own data)."""
    folder = generator_folder(model_dir(path))
    if not folder.is_dir():
        raise UnisonoError(f"run.init_from={path!r}: no such folder. Name a model folder, its "
                           "generator/ folder, or 'default'.")
    return folder


def train_generator(
    config: TrainGeneratorConfig, *, resume: bool = True, show_progress: bool = True
) -> Path:
    """Train the generator; returns the model folder `output_dir/final`.

    Runs alone or as one process of `torchrun --nproc_per_node=K unisono train CONFIG`: each
    process builds its share of every global batch of `world_size * batch_size *
    grad_accumulation` examples; process 0 writes checkpoints and logs.

    Raises:
        UnisonoError: bad data or config, or a run folder with checkpoints and resume=False.
    """
    from unisono.pipeline import write_model_folder  # the API module imports the trainer's tasks

    run = config.run
    if run.threads > 0:
        torch.set_num_threads(run.threads)
    if run.grad_accumulation < 1:
        raise UnisonoError(f"run.grad_accumulation must be at least 1, got {run.grad_accumulation}.")
    info = setup_processes(run.device)
    run_dir = Path(run.output_dir)
    checkpoint_dir = run_dir / "checkpoints"
    last = latest_checkpoint(checkpoint_dir)
    if last is not None and not resume:
        raise UnisonoError(
            f"{run_dir} already holds checkpoints: resume it (drop --no-resume) or choose another "
            "run.output_dir."
        )
    # The codec encodes synthesised sources and targets in this process, on its device.
    codec = load_codec(run.codec or None).eval().requires_grad_(False).to(info.device)
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
    phone_tasks = [n for n, w in config.tasks.items() if w > 0 and get_task(n).uses_phones]
    if phone_tasks and config.model.content_vocab < len(SYMBOLS):
        raise UnisonoError(
            f"tasks {', '.join(phone_tasks)} carry phones: set model.content_vocab={len(SYMBOLS)} "
            "(the content symbol table) so the generator has a content encoder."
        )
    understanding = [
        n for n, w in config.tasks.items() if w > 0 and get_task(n).family == "understanding"
    ]
    if understanding and not config.model.caption_stream:
        raise UnisonoError(
            f"tasks {', '.join(understanding)} answer in text: set model.caption_stream=true."
        )
    if run.caption_init != "normal" and not config.model.caption_stream:
        raise UnisonoError(
            f"run.caption_init={run.caption_init} starts the caption stream's embeddings, but "
            "model.caption_stream is false: set model.caption_stream=true or drop caption_init."
        )
    if config.model.caption_stream:
        for name, value in text_encoder.caption_token_ids().items():
            if getattr(config.model, name) != value:
                raise UnisonoError(
                    f"model.{name} is {getattr(config.model, name)} but the text encoder's "
                    f"tokenizer has {value}; set model.{name}={value}."
                )
    trained = sorted(name for name, weight in config.tasks.items() if weight > 0)
    check_source_prior(source_prior_of(config.flow), trained, where="flow.source_prior")
    check_source_output(config.flow.source_output, "flow.source_output")
    pool, pairs = load_pool(config)
    pool.sample_rate = codec.sample_rate
    sampler = ExampleSampler(
        config.tasks, pool, seed=run.seed, generation_steps=config.curriculum.generation_steps
    )
    cached = cached_clips(config, pool, pairs)
    val_pool = None
    if config.data.val_manifests:
        val_pool, val_pairs = load_pool(config, config.data.val_manifests,
                                        key="data.val_manifests")
        val_pool.sample_rate = codec.sample_rate
        check_disjoint(pool, val_pool)
        cached += cached_clips(config, val_pool, val_pairs)
    cache = LatentCache(config.data.latent_cache or run_dir / "latents", codec)
    if info.is_main:  # one process encodes, the others then read the files
        cache.build(cached, show_progress=show_progress)
    barrier(info)
    if not info.is_main:
        cache.build(cached, show_progress=False)
    assembler = BatchAssembler(
        config=config.data, codec=codec, text_encoder=text_encoder, cache=cache,
        caption_length=config.model.caption_length, answer_length=config.model.answer_length,
    )
    flow = FlowMatching(time_mean=config.flow.time_mean, time_std=config.flow.time_std)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.seed)
        model = DiT(config.model)
    if last is None and run.caption_init == "text_encoder":
        model.init_caption_embedding(text_encoder.word_embeddings())
    if last is None and run.init_from:
        start = init_folder(run.init_from)
        if read_model_config(start, DiTConfig, what="generator").depth < config.model.depth:
            grow_from(model, start)  # a shallower generator: its blocks, identity blocks between
        else:
            # A folder from before a later capability (captioning, content) leaves those parts fresh.
            load_model_weights(model, start, weights="auto", what="generator",
                               allow_missing=later_parts(model))
    step = 0
    state = None
    if last is not None:
        state = load_trainer_state(last)
        step = int(state["step"])
        try:
            model.load_state_dict(load_file(str(last / "model.safetensors")))
        except RuntimeError as err:
            raise UnisonoError(
                f"cannot resume from {last}: it does not fit this config ({err}). Keep the run's "
                "model settings, or train into a new run.output_dir."
            ) from err
    model.to(info.device)
    objective = GeneratorObjective(model, flow, duration_weight=config.flow.duration_weight,
                                   change_weight=config.flow.change_weight)
    wrapped = wrap_model(objective, info, run.strategy)
    # After wrapping: under FSDP the shadow weights are sharded as the model's are.
    ema = EMA(model, config.optim.ema_decay)
    if last is not None:
        ema.load_state_dict(sharded_like(load_file(str(last / EMA_FILE)), ema.state_dict()))
    sharded = info.distributed and run.strategy == "fsdp"
    if run.compile:
        wrapped = torch.compile(wrapped)
    # Held-out losses: process 0 validates the EMA weights in a private copy of the generator.
    held_out = None
    if val_pool is not None and info.is_main:
        held_batches, unvalidated = build_held_out(config, val_pool, assembler, flow, info.device)
        for name, why in unvalidated.items():
            print(f"not validated: {name} ({why})", file=sys.stderr)
        held_out = HeldOutLoss(held_batches, GeneratorObjective(
            DiT(config.model).to(info.device), flow, duration_weight=config.flow.duration_weight))
    val_every = run.val_every or run.checkpoint_every
    optimizer = build_optimizer(model, config.optim)
    scheduler = cosine_schedule(
        optimizer,
        warmup_steps=config.optim.warmup_steps,
        total_steps=run.max_steps,
        min_lr_ratio=config.optim.min_lr_ratio,
    )
    if state is not None:
        try:
            load_optimizer_state(model, optimizer, state["optimizer"], info, run.strategy)
            scheduler.load_state_dict(state["scheduler"])
        except (KeyError, ValueError) as err:
            raise UnisonoError(f"cannot resume the optimizer from {last}: {err}") from err
    logger = None
    if info.is_main:
        save_config(config, run_dir / "train_config.yaml")
        logger = MetricLogger(run_dir, tensorboard=run.tensorboard, resume_step=step)
    guard = NonFiniteGuard(config.optim.max_nonfinite_steps)

    def whole_ema() -> dict[str, torch.Tensor]:
        """The EMA weights whole (under FSDP every process helps gather them)."""
        return gathered(ema.state_dict()) if sharded else ema.state_dict()

    def checkpoint(at_step: int, ema_weights: dict[str, torch.Tensor]) -> None:
        weights = full_state_dict(model, info, run.strategy)
        optimizer_weights = optimizer_state(model, optimizer, info, run.strategy)
        if info.is_main:
            trainer_state = {
                "step": at_step,
                "optimizer": optimizer_weights,
                "scheduler": scheduler.state_dict(),
                "config": config_to_dict(config),
            }

            def write(folder: Path) -> None:
                save_model_folder(folder, config=config.model, state=weights,
                                  ema_state=ema_weights)

            save_checkpoint(checkpoint_dir, at_step, trainer_state=trainer_state,
                            write_files=write, keep_last=run.keep_last)
        barrier(info)

    autocast = (
        torch.autocast(info.device.type, dtype=torch.bfloat16)
        if run.autocast == "bf16"
        else contextlib.nullcontext()
    )
    per_process = config.data.batch_size
    bar = (
        progress_bar(start=step, total=run.max_steps, description="train")
        if show_progress and info.is_main
        else None
    )
    stream = ExampleStream(sampler, start=step, stop=run.max_steps, batch_size=per_process,
                           world_size=info.world_size, rank=info.rank,
                           grad_accumulation=run.grad_accumulation, seed=run.seed)
    batches_ahead = batch_stream(stream, assembler, workers=config.data.workers,
                                 prefetch=config.data.prefetch)
    wrapped.train()
    task_losses: dict[str, list[float]] = {}
    while step < run.max_steps:
        built_step, batches = next(batches_ahead)
        if built_step != step:
            raise RuntimeError(f"the batch stream gave step {built_step} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        totals: dict[str, float] = {}
        task = sampler.task_for_step(step)
        skipped = False
        for micro, batch in enumerate(batches):
            offset = stream.offset(micro)
            batch = batch.to(info.device)
            if batch.caption_tokens is not None:
                example = caption_example(batch.caption_tokens, seed=run.seed, step=step,
                                          offset=offset, mask_token=config.model.caption_mask_token)
            else:
                prior = task in config.flow.source_prior
                example = flow_example(flow, batch.latent, seed=run.seed, step=step, offset=offset,
                                       source=batch.source_latent if prior else None,
                                       prior_noise=config.flow.source_prior_noise,
                                       output=config.flow.source_output)
            last_micro = micro == run.grad_accumulation - 1
            # DDP averages gradients once per step, after the last micro-batch.
            accumulate_only = info.distributed and run.strategy == "ddp" and not last_micro
            sync = wrapped.no_sync() if accumulate_only else contextlib.nullcontext()
            with sync:
                with autocast:
                    loss, terms = wrapped(batch, example)
                if not guard.ok(loss, step=step):
                    skipped = True
                    break
                (loss / run.grad_accumulation).backward()
            for name, value in terms.items():
                totals[name] = totals.get(name, 0.0) + float(value.detach()) / run.grad_accumulation
            totals["loss"] = totals.get("loss", 0.0) + float(loss.detach()) / run.grad_accumulation
        main_term = totals.get("flow", totals.get("caption"))
        if main_term is not None and not skipped:
            task_losses.setdefault(task, []).append(main_term)
        grad_norm = float("nan")
        if not skipped:
            grad_norm = clip_gradients(model.parameters(), config.optim.grad_clip)
            if guard.ok(grad_norm, step=step):
                optimizer.step()
        scheduler.step()
        step += 1
        if step % EMA_EVERY == 0:
            ema.update(model, step // EMA_EVERY)
        # Every process takes the same branches here: the log row's averages are collective.
        validating = val_pool is not None and (step % val_every == 0 or step == run.max_steps)
        saving = step % run.checkpoint_every == 0 or step == run.max_steps
        averaged = whole_ema() if validating or saving else {}
        val_losses: dict[str, float] = {}
        if validating:
            if held_out is not None:
                val_losses = held_out(averaged)
            barrier(info)
        if step % run.log_every == 0 or step == run.max_steps or validating:
            # Terms of some batches only (TA content, captions): a column from row one.
            row = {"content_duration": float("nan"), "caption": float("nan")}
            row.update({name: average(value, info) for name, value in totals.items()})
            # Every task has a column from the first row on (the CSV's columns are fixed then).
            # Per task: the mean of its main loss (flow, or caption for understanding tasks) over
            # the steps since the last row that drew it.
            row.update({f"flow/{name}": float("nan") for name in sampler.names})
            row.update({f"flow/{name}": sum(v) / len(v) for name, v in task_losses.items()})
            task_losses.clear()
            row.update(grad_norm=grad_norm, lr=scheduler.get_last_lr()[0], skipped=guard.skipped)
            if held_out is not None:  # held-out losses of this step's validation, if any
                row.update({val_column(name): float("nan") for name in held_out.tasks})
                row.update(val_losses)
            if logger is not None:
                logger.log(step, row)
        if bar is not None:
            bar.update(1)
            shown = float("nan") if main_term is None else main_term
            bar.set_postfix(task=task, loss=f"{shown:.3f}")
        if saving:
            checkpoint(step, averaged)
    del batches_ahead  # stops the loader workers, if any
    if bar is not None:
        bar.close()
    if logger is not None:
        logger.close()
    final = run_dir / "final"
    if info.is_main:
        final_checkpoint = latest_checkpoint(checkpoint_dir)
        write_model_folder(
            final,
            generator_dir=final_checkpoint,
            codec_dir=run.codec or None,
            text_encoder=run.text_encoder or None,
            tasks=trained,
            source_prior=source_prior_of(config.flow),
            source_output=config.flow.source_output,
            length_mode=config.data.length_mode,
            fixed_seconds=config.data.fixed_seconds,
            max_seconds=config.data.max_seconds,
        )
    barrier(info)
    teardown(info)
    return final

"""The training loop shared by the reference models: steps, EMA, logging, atomic checkpoints, resume.

A trainer hands `run_training` its model, a `loss_at(step)` function (which draws the batch of
that step itself, from seeds only) and a `write_model(model, folder, ema_state)` function. Dropout
is seeded per step, so a run killed at any instant and resumed from its last checkpoint takes the
same steps as an uninterrupted run. The final folder `output_dir/final` holds the EMA weights in
float16: inference-ready, loadable by the model's `from_pretrained`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from unisono.config import config_to_dict, save_config
from unisono.errors import UnisonoError
from unisono.models.pretrained import EMA_FILE, MODEL_FILE
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

Loss = tuple[torch.Tensor, dict[str, float]]


@dataclass
class RefRunConfig:
    """Run bookkeeping of a reference-model training.

    Attributes:
        output_dir: run folder (checkpoints/, metrics.csv, final/).
        max_steps: optimisation steps.
        seed: seeds the initialisation, the batches, the augmentation and dropout.
        checkpoint_every: steps between checkpoints.
        keep_last: checkpoints kept.
        log_every: steps between CSV rows.
        eval_every: steps between validation passes (0: only at the end).
        threads: torch CPU threads (0 keeps torch's default).
        tensorboard: also write TensorBoard events when tensorboard is installed.
    """

    output_dir: str = "runs/refmodel"
    max_steps: int = 10000
    seed: int = 0
    checkpoint_every: int = 500
    keep_last: int = 2
    log_every: int = 25
    eval_every: int = 1000
    threads: int = 1
    tensorboard: bool = False


def ema_model(model: nn.Module, ema: EMA) -> nn.Module:
    """A copy of `model` holding the EMA weights, in eval mode."""
    averaged = copy.deepcopy(model)
    ema.copy_to(averaged)
    return averaged.eval()


def run_training(
    *,
    name: str,
    model: nn.Module,
    config: object,
    run: RefRunConfig,
    optim: OptimConfig,
    loss_at: Callable[[nn.Module, int], Loss],
    write_model: Callable[[nn.Module, Path, dict[str, torch.Tensor] | None, bool], None],
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
    resume: bool = True,
    show_progress: bool = True,
) -> Path:
    """Train `model` for `run.max_steps` steps; returns `output_dir/final`.

    Args:
        name: shown on the progress bar.
        model: the network (its trainable parameters are optimised).
        config: the full training config, saved beside the run.
        run: run settings.
        optim: optimiser settings.
        loss_at: (model, step) -> (loss, scalars to log).
        write_model: (model, folder, ema_state or None, half) writes an inference folder.
        evaluate: (EMA model) -> validation scalars, logged every `run.eval_every` steps.
        resume: continue from the newest checkpoint; when False and one exists, refuse.
        show_progress: show a progress bar.
    """
    if run.threads > 0:
        torch.set_num_threads(run.threads)
    run_dir = Path(run.output_dir)
    checkpoint_dir = run_dir / "checkpoints"
    last = latest_checkpoint(checkpoint_dir)
    if last is not None and not resume:
        raise UnisonoError(f"{run_dir} already holds checkpoints: resume it (drop --no-resume) or "
                           "choose another run.output_dir.")
    optimizer = build_optimizer(model, optim)
    scheduler = cosine_schedule(optimizer, warmup_steps=optim.warmup_steps,
                                total_steps=run.max_steps, min_lr_ratio=optim.min_lr_ratio)
    ema = EMA(model, optim.ema_decay)
    step = 0
    if last is not None:
        state = load_trainer_state(last)
        try:
            model.load_state_dict(load_file(str(last / MODEL_FILE)))
            ema.load_state_dict(load_file(str(last / EMA_FILE)))
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, KeyError, ValueError, OSError) as err:
            raise UnisonoError(f"cannot resume from {last}: it does not fit this config ({err}). "
                               "Keep the model settings or train into a new run.output_dir.") from err
        step = int(state["step"])
    save_config(config, run_dir / "train_config.yaml")
    logger = MetricLogger(run_dir, tensorboard=run.tensorboard, resume_step=step)
    # validation scalars get their own CSV: a MetricLogger's columns are fixed by its first row
    val_logger = MetricLogger(run_dir / "validation", tensorboard=False, resume_step=step)
    guard = NonFiniteGuard(optim.max_nonfinite_steps)

    def checkpoint(at_step: int) -> Path:
        return save_checkpoint(
            checkpoint_dir, at_step, keep_last=run.keep_last,
            trainer_state={"step": at_step, "optimizer": optimizer.state_dict(),
                           "scheduler": scheduler.state_dict(), "config": config_to_dict(config)},
            write_files=lambda folder: write_model(model, folder, ema.state_dict(), False))

    def validate(at_step: int) -> None:
        if evaluate is not None:
            scores = evaluate(ema_model(model, ema))
            val_logger.log(at_step, scores)
            print(f"[{name}] step {at_step}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()),
                  flush=True)

    bar = progress_bar(start=step, total=run.max_steps, description=name) if show_progress else None
    model.train()
    while step < run.max_steps:
        torch.manual_seed(run.seed * 1_000_003 + step)  # dropout of this step
        loss, terms = loss_at(model, step)
        optimizer.zero_grad(set_to_none=True)
        grad_norm = float("nan")
        if guard.ok(loss, step=step):
            loss.backward()
            grad_norm = clip_gradients([p for p in model.parameters() if p.requires_grad],
                                       optim.grad_clip)
            if guard.ok(grad_norm, step=step):
                optimizer.step()
        scheduler.step()
        step += 1
        ema.update(model, step)
        if step % run.log_every == 0 or step == run.max_steps:
            logger.log(step, {**terms, "loss": float(loss.detach()), "grad_norm": grad_norm,
                              "lr": scheduler.get_last_lr()[0], "skipped": guard.skipped})
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        if step % run.checkpoint_every == 0 or step == run.max_steps:
            checkpoint(step)
        if run.eval_every and step % run.eval_every == 0 and step != run.max_steps:
            validate(step)
            model.train()
    if bar is not None:
        bar.close()
    final_checkpoint = latest_checkpoint(checkpoint_dir) or checkpoint(step)
    final = run_dir / "final"
    averaged = copy.deepcopy(model)
    averaged.load_state_dict(load_file(str(final_checkpoint / EMA_FILE)))
    write_model(averaged.eval(), final, None, True)
    if evaluate is not None:
        scores = evaluate(averaged.eval())
        val_logger.log(step, scores)
        (final / "validation.json").write_text(json.dumps(scores, indent=2) + "\n")
        print(f"[{name}] final: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()), flush=True)
    logger.close()
    return final

"""Everything `unisono train CONFIG` reads: model, data, tasks, flow objective, optimiser, run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from unisono.models.dit import DiTConfig
from unisono.training import OptimConfig


@dataclass
class GeneratorDataConfig:
    """Where examples come from and how they are batched.

    Attributes:
        manifests: JSONL manifests (world or users' own; paths relative to each manifest).
        max_seconds: longest target; longer clips are skipped by caption tasks.
        batch_size: examples per optimisation step (per process).
        length_mode: "clip" pads each batch to its longest clip and masks the padding out of the
            loss (a duration predictor gives lengths at inference); "fixed" pads every clip to
            `fixed_seconds` with the codec's silence latent and trains on the padding too, so the
            model learns trailing silence (UNISON).
        fixed_seconds: target length in "fixed" mode.
        latent_cache: folder of pre-encoded clip latents ("" = <output_dir>/latents); keyed by
            the codec's weights, so a new codec never reads stale latents.
        instruction_dropout: probability of dropping the instruction (classifier-free guidance).
        workers: loader processes that synthesise examples ahead of the optimiser (0: the
            training process builds them between steps). The training process encodes them
            (the codec on its device); the batches are the same either way.
        prefetch: steps each worker keeps ready.
        val_manifests: manifests of held-out clips (none in `manifests`); when given, every
            trained task's loss on fixed batches of them is logged as val/<task> every
            `run.val_every` steps (`unisono.train.validation`).
        val_batches: fixed batches per task (of `batch_size` examples).
        val_seed: seeds the held-out examples and their noise (not `run.seed`, so runs with
            different seeds validate on the same batches).
        caption_choice: which of a clip's captions the caption task trains on: "any" (one at
            random per example) or "consensus" (always the one that agrees most with the
            clip's other captions; `unisono.tasks.understanding.consensus_caption`).
    """

    manifests: list[str] = field(default_factory=list)
    max_seconds: float = 10.0
    batch_size: int = 8
    length_mode: Literal["clip", "fixed"] = "clip"
    fixed_seconds: float = 10.0
    latent_cache: str = ""
    instruction_dropout: float = 0.1
    workers: int = 0
    prefetch: int = 2
    val_manifests: list[str] = field(default_factory=list)
    val_batches: int = 4
    val_seed: int = 0
    caption_choice: Literal["any", "consensus"] = "any"


@dataclass
class FlowConfig:
    """The flow-matching objective and the duration predictor's loss.

    Attributes:
        time_mean: mean of the logit-normal flow time.
        time_std: its standard deviation.
        duration_weight: weight of the log-duration L1 loss of the duration predictor.
        source_prior: transformation tasks (editing / restoration with a source aligned to the
            target) whose path starts from the source latent plus noise instead of from pure
            noise (`unisono.flow.path.source_prior`); saved with the model, so inference
            starts from the source too.
        source_prior_noise: the standard deviation of that noise around the source.
        source_output: what the network predicts on those tasks: "velocity" (the path's, as
            everywhere else) or "change" (the source minus the target latent; sampling turns it
            into the velocity, `unisono.flow.path.ChangeVelocity`). Saved with the model.
        change_weight: on transformation tasks (editing, restoration) each frame's flow loss
            weighs 1 + change_weight x (its change from source to target / the clip's mean
            change), so the frames an edit changes are not outweighed by the many it copies
            (`unisono.flow.path.change_weights`); 0 weighs every frame alike.
    """

    time_mean: float = 0.0
    time_std: float = 1.0
    duration_weight: float = 0.1
    source_prior: list[str] = field(default_factory=list)
    source_prior_noise: float = 0.5
    source_output: str = "velocity"
    change_weight: float = 0.0


def source_prior_of(flow: FlowConfig) -> dict[str, float]:
    """The source prior as a model folder stores it: task -> noise scale."""
    return {name: flow.source_prior_noise for name in flow.source_prior}


@dataclass
class GeneratorRunConfig:
    """Run bookkeeping.

    Attributes:
        output_dir: run folder (checkpoints/, metrics.csv, final/).
        max_steps: optimisation steps.
        seed: seeds initialisation, data order, noise and flow times.
        checkpoint_every: steps between atomic checkpoints.
        keep_last: checkpoints kept.
        log_every: steps between CSV / TensorBoard rows.
        val_every: steps between held-out losses (with `data.val_manifests`; 0: at every
            checkpoint). Always at the last step.
        tensorboard: also write TensorBoard events when available.
        threads: torch CPU threads (0 keeps torch's default).
        codec: codec folder ("" = the shipped codec).
        text_encoder: Hugging Face encoder folder ("" = the packaged MiniLM).
        init_from: a model folder, its generator/ folder, or "default" (the shipped model), whose
            weights start a new run (ignored when resuming); the model config must match, or
            differ only in more blocks (the shallower model grows, `unisono.models.dit.grow`).
        caption_init: how a fresh caption stream's token embeddings start: "normal" (random) or
            "text_encoder" (the text encoder's word embeddings, reduced to the model width).
        grad_accumulation: micro-batches of `data.batch_size` per optimisation step.
        device: "auto" (this process's GPU if any), "cpu" or "cuda".
        strategy: multi-process wrapping under torchrun: "ddp" or "fsdp" (FSDP2, large presets).
        autocast: "none" or "bf16" (a GPU option: bf16 matmuls are ~8x slower on this CPU).
        compile: torch.compile the backbone (3-9% on CPU, more on GPUs).
    """

    output_dir: str = "runs/generator-tiny"
    max_steps: int = 20000
    seed: int = 0
    checkpoint_every: int = 500
    keep_last: int = 3
    log_every: int = 10
    val_every: int = 0
    tensorboard: bool = True
    threads: int = 0
    codec: str = ""
    text_encoder: str = ""
    init_from: str = ""
    caption_init: Literal["normal", "text_encoder"] = "normal"
    grad_accumulation: int = 1
    device: str = "auto"
    strategy: Literal["ddp", "fsdp"] = "ddp"
    autocast: Literal["none", "bf16"] = "none"
    compile: bool = False


@dataclass
class CurriculumConfig:
    """UNISON's two-stage curriculum.

    Attributes:
        generation_steps: steps that train generation tasks only before every task joins.
    """

    generation_steps: int = 0


@dataclass
class TrainGeneratorConfig:
    """The whole training config."""

    model: DiTConfig = field(default_factory=DiTConfig)
    data: GeneratorDataConfig = field(default_factory=GeneratorDataConfig)
    tasks: dict[str, float] = field(default_factory=lambda: {"t2a": 1.0})
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)
    optim: OptimConfig = field(
        default_factory=lambda: OptimConfig(lr=3e-4, betas=(0.9, 0.95), weight_decay=0.01,
                                            warmup_steps=500, min_lr_ratio=0.1, ema_decay=0.999)
    )
    run: GeneratorRunConfig = field(default_factory=GeneratorRunConfig)

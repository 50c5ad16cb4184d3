"""Held-out losses: every trained task's loss on fixed batches of clips the run never trains on.

A task's training loss says how well the model fits the examples it draws; the same loss on
held-out clips tells learning from memorising (a caption loss that keeps falling on the training
clips while it stalls or rises on held-out ones) and which checkpoint to keep.

The batches are built once, at the start of the run, from `data.val_manifests`: for each task with
a positive weight, `data.val_batches` batches of `data.batch_size` examples, drawn from generators
seeded by (`data.val_seed`, task, batch, row) and encoded without instruction dropout; their noise,
flow times and caption masks are fixed the same way. So the figure at step s of one run compares
with step s' of the same run and with any run validated on the same manifests and seed, whatever
its own seed. Validation draws from none of the training generators: a validated run trains
exactly as it would without it (resume stays bit-exact).

The weights validated are the EMA's (what `final/` and an export hold), in a private copy of the
generator on process 0 while the others wait (under FSDP every process first helps gather the
sharded EMA weights whole).
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from unisono.errors import UnisonoError
from unisono.flow import FlowMatching
from unisono.flow.path import FlowExample
from unisono.tasks import ClipPool, get_task
from unisono.train.batches import BatchAssembler, GeneratorBatch
from unisono.train.config import TrainGeneratorConfig
from unisono.train.objective import (
    CaptionExample,
    GeneratorObjective,
    caption_example,
    flow_example,
)

COLUMN = "val/{task}"


def val_column(task: str) -> str:
    """The metrics.csv / TensorBoard column of a task's held-out loss."""
    return COLUMN.format(task=task)


@dataclass
class HeldOutBatch:
    """One fixed validation batch and its fixed noise (or caption mask)."""

    task: str
    batch: GeneratorBatch
    example: FlowExample | CaptionExample


def check_disjoint(train_pool: ClipPool, val_pool: ClipPool) -> None:
    """Refuse validation clips that are also training clips (their loss would not be held out)."""
    shared = sorted({e.id for e in train_pool.entries} & {e.id for e in val_pool.entries})
    if shared:
        raise UnisonoError(
            f"{len(shared)} clip id(s) of data.val_manifests are also in data.manifests (first: "
            f"{shared[0]!r}): held-out clips must not be trained on. Render or split off clips "
            "the run does not train on (e.g. `unisono world render --split val`)."
        )


def build_held_out(
    config: TrainGeneratorConfig, pool: ClipPool, assembler: BatchAssembler, flow: FlowMatching,
    device: torch.device | str = "cpu",
) -> tuple[list[HeldOutBatch], dict[str, str]]:
    """The fixed batches of every trained task the validation pool can build, on `device`.

    Returns:
        the batches, and task -> reason for the trained tasks the pool has no examples for (a
        validation manifest without music cannot validate t2m; the run says so and goes on).

    Raises:
        UnisonoError: no trained task can be validated from these manifests.
    """
    data = config.data
    if data.val_batches < 1:
        raise UnisonoError(f"data.val_batches must be at least 1, got {data.val_batches}.")
    plain = BatchAssembler(
        config=dataclasses.replace(assembler.config, instruction_dropout=0.0),
        codec=assembler.codec, text_encoder=assembler.text_encoder, cache=assembler.cache,
        caption_length=assembler.caption_length, answer_length=assembler.answer_length,
    )
    batches: list[HeldOutBatch] = []
    missing: dict[str, str] = {}
    seed = data.val_seed
    for name in sorted(n for n, w in config.tasks.items() if w > 0):
        task = get_task(name)
        stream = zlib.crc32(name.encode())
        built = []
        try:
            for index in range(data.val_batches):
                examples = [task.build(pool, np.random.default_rng([seed, stream, index, row]))
                            for row in range(data.batch_size)]
                built.append(plain.assemble(examples, step=index, seed=seed + stream))
        except UnisonoError as error:
            missing[name] = str(error)
            continue
        for index, batch in enumerate(built):
            batch = batch.to(torch.device(device))
            if batch.caption_tokens is not None:
                example: FlowExample | CaptionExample = caption_example(
                    batch.caption_tokens, seed=seed + stream, step=index, offset=0,
                    mask_token=config.model.caption_mask_token)
            else:
                prior = name in config.flow.source_prior
                example = flow_example(
                    flow, batch.latent, seed=seed + stream, step=index, offset=0,
                    source=batch.source_latent if prior else None,
                    prior_noise=config.flow.source_prior_noise, output=config.flow.source_output)
            batches.append(HeldOutBatch(name, batch, example))
    if not batches:
        reasons = "; ".join(f"{task}: {why}" for task, why in missing.items())
        raise UnisonoError(f"data.val_manifests give no validation examples for any trained task "
                           f"({reasons}). Give manifests with clips of the trained tasks' kinds.")
    return batches, missing


class HeldOutLoss:
    """Mean loss per task over the fixed held-out batches (flow loss, or the caption loss of
    understanding tasks: the term the training log reports per task, without the change
    weighting of `flow.change_weight`, so runs that weigh differently compare)."""

    def __init__(self, batches: list[HeldOutBatch], objective: GeneratorObjective) -> None:
        """`objective` is a private copy that receives the weights to validate, so the trained
        module is never touched."""
        self.batches = batches
        self.tasks = sorted({b.task for b in batches})
        self.objective = objective.eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, weights: dict[str, torch.Tensor]) -> dict[str, float]:
        """Losses with `weights` (a whole state dict of the generator) in the private copy."""
        self.objective.model.load_state_dict(weights)
        sums: dict[str, list[float]] = {}
        for held in self.batches:
            _, terms = self.objective(held.batch, held.example, weighted=False)
            main = terms["caption"] if "caption" in terms else terms["flow"]
            sums.setdefault(held.task, []).append(float(main))
        return {val_column(task): sum(values) / len(values) for task, values in sums.items()}

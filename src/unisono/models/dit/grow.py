"""Growing a trained generator deeper: its blocks keep their weights, new blocks start as identity.

`run.init_from` may name a generator with fewer blocks than the run's `model.depth` and otherwise
the same architecture. Each old block goes to a position of the deeper stack that reads the same
instruction layer under the model's fusion (deep fusion spreads the encoder's layers over the
blocks, so block k of 6 reads layer k + 1 and must keep reading it), in the same order. The
blocks in between start with zero output projections (attention output and the MLP's last layer,
in the audio and caption streams), so each adds nothing to its residual stream: the grown model
computes exactly what the smaller one did, and training goes on from there with more capacity
(progressive stacking; DiT's zero-initialised gates serve the same purpose at the start of a run).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from unisono.errors import UnisonoError
from unisono.models.dit.config import DiTConfig
from unisono.models.dit.model import DiT, later_parts
from unisono.models.pretrained import load_model_weights, read_model_config
from unisono.models.text_encoder import fusion_layers


def block_positions(old: DiTConfig, new: DiTConfig) -> list[int]:
    """Where each of the smaller model's blocks goes in the deeper one (increasing positions,
    the same instruction layer as before), the last block staying last.

    Raises:
        UnisonoError: the deeper model has no order-preserving place for every old block.
    """
    old_layers = fusion_layers(old.fusion, num_blocks=old.depth, num_layers=old.text_layers)
    new_layers = fusion_layers(new.fusion, num_blocks=new.depth, num_layers=new.text_layers)
    positions: list[int] = []
    limit = new.depth  # from the last block back, each to the latest fitting position
    for layer in reversed(old_layers):
        fitting = [p for p in range(limit) if new_layers[p] == layer]
        if not fitting:
            raise UnisonoError(
                f"cannot grow {old.depth} blocks into {new.depth}: no block of the deeper model "
                f"reads instruction layer {layer} in order; choose a depth of at least "
                f"{old.depth} whose fusion keeps every layer (e.g. {2 * old.depth})."
            )
        positions.append(fitting[-1])
        limit = fitting[-1]
    return positions[::-1]


def zero_block_outputs(model: DiT, index: int) -> None:
    """Make block `index` an identity: zero its streams' output projections."""
    block = model.blocks[index]
    streams = [block.audio] + ([block.caption] if block.caption is not None else [])
    with torch.no_grad():
        for stream in streams:
            for linear in (stream.output, stream.mlp[-1]):
                linear.weight.zero_()
                linear.bias.zero_()


def grow_from(model: DiT, directory: str | Path, *, weights: str = "auto") -> list[int]:
    """Load a shallower generator folder into `model` (see the module docstring).

    Returns:
        The positions the old blocks took.

    Raises:
        UnisonoError: the folder's generator differs in anything but depth, or is not shallower.
    """
    old = read_model_config(directory, DiTConfig, what="generator")
    new = model.config
    if old.depth >= new.depth:
        raise UnisonoError(f"growing needs a shallower generator: {directory} has {old.depth} "
                           f"blocks, the model {new.depth}.")
    others = {f.name for f in dataclasses.fields(DiTConfig)} - {"depth"}
    differing = sorted(name for name in others if getattr(old, name) != getattr(new, name))
    if differing:
        raise UnisonoError(f"cannot grow {directory} into this model: besides depth they differ "
                           f"in {', '.join(differing)}.")
    positions = block_positions(old, new)

    def rename(key: str) -> str:
        part, _, rest = key.partition(".")
        if part != "blocks":
            return key
        index, _, rest = rest.partition(".")
        return f"blocks.{positions[int(index)]}.{rest}"

    fresh = [p for p in range(new.depth) if p not in positions]
    load_model_weights(model, directory, weights=weights, what="generator",
                       allow_missing=tuple(f"blocks.{p}." for p in fresh) + later_parts(model),
                       rename=rename)
    for position in fresh:
        zero_block_outputs(model, position)
    return positions

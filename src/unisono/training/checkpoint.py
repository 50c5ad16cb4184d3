"""Atomic training checkpoints: a folder per step, written under a temporary name and renamed.

A checkpoint folder `step-XXXXXXXX/` holds the inference-ready files a model writer puts there
(e.g. config.json + model.safetensors + ema.safetensors) and `trainer.pt`: optimizer, scheduler,
RNG states, step and data position, loaded back with `torch.load(weights_only=True)` (tensors and
plain containers only, no arbitrary objects). A run killed at any instant leaves either the complete
new folder or none, so resuming always finds a complete checkpoint.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from unisono.errors import UnisonoError
from unisono.files import with_umask_modes

TRAINER_FILE = "trainer.pt"
_PATTERN = re.compile(r"^step-(\d{8,})$")


def list_checkpoints(checkpoint_dir: str | Path) -> list[Path]:
    """Complete checkpoint folders in `checkpoint_dir`, oldest step first."""
    checkpoint_dir = Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        return []
    found = []
    for child in checkpoint_dir.iterdir():
        match = _PATTERN.match(child.name)
        if match and (child / TRAINER_FILE).is_file():
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def latest_checkpoint(checkpoint_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    checkpoints = list_checkpoints(checkpoint_dir)
    return checkpoints[-1] if checkpoints else None


def save_checkpoint(
    checkpoint_dir: str | Path,
    step: int,
    *,
    trainer_state: dict[str, Any],
    write_files: Callable[[Path], None] | None = None,
    keep_last: int = 3,
) -> Path:
    """Write `step-{step:08d}/` atomically and delete all but the newest `keep_last` checkpoints.

    Args:
        checkpoint_dir: folder holding the run's checkpoints.
        step: the optimisation step the state belongs to (steps completed).
        trainer_state: tensors / numbers / strings / nested lists and dicts for `trainer.pt`.
        write_files: called with the temporary folder to write model files (e.g. safetensors).
        keep_last: checkpoints to keep (>= 1).

    Returns:
        The final checkpoint folder.
    """
    if keep_last < 1:
        raise UnisonoError(f"keep_last must be at least 1; got {keep_last}")
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    final = checkpoint_dir / f"step-{step:08d}"
    staging = Path(tempfile.mkdtemp(dir=checkpoint_dir, prefix=".staging-"))
    try:
        if write_files is not None:
            write_files(staging)
        torch.save(trainer_state, staging / TRAINER_FILE)
        for file in staging.iterdir():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        if final.exists():  # the same step saved again (e.g. final save after a periodic one)
            trash = Path(tempfile.mkdtemp(dir=checkpoint_dir, prefix=".trash-"))
            os.replace(final, trash / final.name)
            shutil.rmtree(trash, ignore_errors=True)
        with_umask_modes(staging)
        os.replace(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    for old in list_checkpoints(checkpoint_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in checkpoint_dir.glob(".staging-*"):  # from a run killed mid-save
        shutil.rmtree(leftover, ignore_errors=True)
    return final


def load_trainer_state(checkpoint: str | Path) -> dict[str, Any]:
    """Read `trainer.pt` of a checkpoint folder (safe loading: no arbitrary code)."""
    path = Path(checkpoint) / TRAINER_FILE
    if not path.is_file():
        raise UnisonoError(f"{checkpoint} is not a complete checkpoint (no {TRAINER_FILE})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a corrupt file
        raise UnisonoError(
            f"cannot read {path}: {err}. Delete that checkpoint folder to resume "
            "from the previous one."
        ) from err


def capture_rng_states(generators: dict[str, torch.Generator]) -> dict[str, torch.Tensor]:
    """States of named torch generators plus the global torch CPU state, for `trainer.pt`."""
    states = {name: gen.get_state() for name, gen in generators.items()}
    states["torch_global"] = torch.get_rng_state()
    return states


def restore_rng_states(
    states: dict[str, torch.Tensor], generators: dict[str, torch.Generator]
) -> None:
    """Inverse of `capture_rng_states`."""
    for name, gen in generators.items():
        gen.set_state(states[name])
    torch.set_rng_state(states["torch_global"])

"""Model folders: `config.json` + `model.safetensors` (+ `ema.safetensors`), never a pickle.

Every Unisono model (codec, generator, reference models) saves and loads through these two
functions, so a folder written by training is loadable by inference with nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors.torch import load_file

from unisono.config import config_from_dict, save_config
from unisono.errors import UnisonoError
from unisono.files import save_tensors

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
WEIGHT_CHOICES = ("auto", "ema", "model")

T = TypeVar("T")


def _prepared_state(state: dict[str, torch.Tensor], half: bool) -> dict[str, torch.Tensor]:
    """A state dict made contiguous, detached and (when `half`) float16 for saving."""
    return {key: (value.half() if half and value.is_floating_point() else value).detach()
            .contiguous().clone() for key, value in state.items()}


def save_model_folder(
    directory: str | Path,
    *,
    config: Any,
    state: dict[str, torch.Tensor],
    ema_state: dict[str, torch.Tensor] | None = None,
    half: bool = False,
) -> Path:
    """Write a model folder (float16 floating-point tensors when `half`). Files are written whole
    before being renamed into place."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_config(config, directory / CONFIG_FILE)
    for name, tensors in ((MODEL_FILE, state), (EMA_FILE, ema_state)):
        if tensors is None:
            continue
        partial = directory / f".{name}.partial"
        save_tensors(_prepared_state(tensors, half), str(partial), metadata={"format": "pt"})
        partial.replace(directory / name)
    return directory


def read_config_data(directory: str | Path, *, what: str,
                     hint: str = "point at a folder written by save_pretrained or by training."
                     ) -> dict:
    """The raw config.json of a model folder, with a clear error when the folder is not one."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise UnisonoError(f"{directory} is not a {what} folder (no {CONFIG_FILE}): {hint}")
    try:
        return json.loads(config_path.read_text())
    except json.JSONDecodeError as err:
        raise UnisonoError(f"{config_path} is not valid JSON: {err}") from err


def weights_file(directory: str | Path, *, weights: str, what: str) -> Path:
    """The weights file of a folder: "ema", "model" or "auto" (EMA weights when the folder has
    them); an error when it is missing."""
    if weights not in WEIGHT_CHOICES:
        raise UnisonoError(f"weights={weights!r}; choose one of {', '.join(WEIGHT_CHOICES)}.")
    directory = Path(directory)
    use_ema = weights == "ema" or (weights == "auto" and (directory / EMA_FILE).is_file())
    path = directory / (EMA_FILE if use_ema else MODEL_FILE)
    if not path.is_file():
        raise UnisonoError(f"{path} is missing: the {what} folder is incomplete.")
    return path


def read_model_config(directory: str | Path, config_class: type[T], *, what: str) -> T:
    """The typed config of a model folder, with a clear error when the folder is not one."""
    return config_from_dict(config_class, read_config_data(directory, what=what))


def load_model_weights(
    model: torch.nn.Module,
    directory: str | Path,
    *,
    weights: str = "auto",
    what: str,
    allow_missing: tuple[str, ...] = (),
    rename: Callable[[str], str] | None = None,
) -> torch.nn.Module:
    """Load a folder's weights into a model built from its config.

    Args:
        model: The freshly built model.
        directory: The folder.
        weights: "ema", "model" or "auto" (EMA weights when the folder has them).
        what: The model's name in error messages.
        allow_missing: Key prefixes that may be absent (parts added by a later version of the
            model keep their fresh initialisation, so older folders still load).
        rename: maps each stored key to the model's key (a grown model's blocks move).
    """
    path = weights_file(directory, weights=weights, what=what)
    rename = rename or (lambda key: key)
    state = {rename(key): value.to(torch.float32) if value.is_floating_point() else value
             for key, value in load_file(str(path)).items()}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatches
        raise UnisonoError(f"weights in {path} do not fit its config: {err}") from err
    missing = [key for key in result.missing_keys if not key.startswith(allow_missing)]
    if missing or result.unexpected_keys:
        raise UnisonoError(
            f"weights in {path} do not fit its config: missing {missing[:5]}, unexpected "
            f"{result.unexpected_keys[:5]}. The folder is damaged or from another model."
        )
    return model

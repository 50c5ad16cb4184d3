"""Unisono model folders: writing one from a training run, exporting an inference copy, and
finding the default model shipped with the package.

A Unisono model folder::

    DIR/unisono.json      {"format": 1, "tasks": [...], "codec": "default" | "codec",
                           "text_encoder": "default" | PATH, "length_mode": "clip" | "fixed", ...}
    DIR/generator/        config.json + model.safetensors (+ ema.safetensors)
    DIR/codec/            (only when the model was trained with a codec other than the shipped one)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from unisono.errors import UnisonoError
from unisono.models.dit import DiT
from unisono.models.pretrained import CONFIG_FILE, EMA_FILE, MODEL_FILE, save_model_folder

MODEL_INDEX = "unisono.json"
FORMAT_VERSION = 1


def write_model_folder(
    directory: str | Path,
    *,
    generator_dir: str | Path,
    codec_dir: str | Path | None,
    text_encoder: str | None,
    tasks: list[str],
    length_mode: str = "clip",
    fixed_seconds: float = 10.0,
) -> Path:
    """Assemble a Unisono model folder from a generator checkpoint folder and its codec.

    Args:
        directory: the folder to write.
        generator_dir: a folder with the generator's config.json and weights (a checkpoint).
        codec_dir: the codec folder it was trained with; None for the shipped codec.
        text_encoder: the text encoder folder; None for the packaged MiniLM.
        tasks: the tasks the generator was trained for.
        length_mode: "clip" or "fixed" (see the trainer's data config).
        fixed_seconds: the fixed length in "fixed" mode.
    """
    directory = Path(directory)
    generator_out = directory / "generator"
    generator_out.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_FILE, MODEL_FILE, EMA_FILE):
        if (Path(generator_dir) / name).is_file():
            shutil.copyfile(Path(generator_dir) / name, generator_out / name)
    codec_entry = "default"
    if codec_dir is not None:
        shutil.copytree(codec_dir, directory / "codec", dirs_exist_ok=True)
        codec_entry = "codec"
    index = {
        "format": FORMAT_VERSION,
        "tasks": tasks,
        "codec": codec_entry,
        "text_encoder": text_encoder or "default",
        "length_mode": length_mode,
        "fixed_seconds": fixed_seconds,
    }
    (directory / MODEL_INDEX).write_text(json.dumps(index, indent=2) + "\n")
    return directory


def export_model_folder(
    source: str | Path, directory: str | Path, *, half: bool = True, tasks: list[str] | None = None
) -> Path:
    """An inference-only copy of a model folder: the EMA weights (or the raw ones when there is
    no EMA) as the only weights, float16 when `half` (they load back into float32).

    Args:
        source: a model folder (`final/` of a run) or a training checkpoint folder inside one's
            `checkpoints/` (its unisono.json is taken from the run's `final/` or rebuilt from the
            run's train_config.yaml).
        directory: the folder to write.
        half: store float16.
        tasks: the task list when `source` is a bare checkpoint of a run without final/.
    """
    source = Path(source)
    generator_dir = source / "generator" if (source / MODEL_INDEX).is_file() else source
    if not (generator_dir / CONFIG_FILE).is_file():
        raise UnisonoError(f"{source} is neither a model folder nor a generator checkpoint.")
    if (source / MODEL_INDEX).is_file():
        index = json.loads((source / MODEL_INDEX).read_text())
    else:
        if tasks is None:
            raise UnisonoError(f"{source} is a bare checkpoint: pass the tasks it was trained for.")
        index = {"format": FORMAT_VERSION, "tasks": tasks, "codec": "default",
                 "text_encoder": "default", "length_mode": "clip", "fixed_seconds": 10.0}
    model = DiT.from_pretrained(generator_dir)  # EMA weights when present
    state = {k: (v.half() if half and v.is_floating_point() else v)
             for k, v in model.state_dict().items()}
    directory = Path(directory)
    save_model_folder(directory / "generator", config=model.config, state=state)
    if index.get("codec") not in (None, "default"):
        shutil.copytree(source / index["codec"], directory / index["codec"], dirs_exist_ok=True)
    (directory / MODEL_INDEX).write_text(json.dumps(index, indent=2) + "\n")
    return directory


def default_model_dir() -> Path:
    """The default model shipped inside the package (`unisono/assets/default`)."""
    import importlib.resources

    folder = Path(str(importlib.resources.files("unisono") / "assets" / "default"))
    if not (folder / MODEL_INDEX).is_file():
        raise UnisonoError(
            f"no default model at {folder}: this installation ships none yet. Pass a model "
            "folder (the final/ folder of `unisono train`)."
        )
    return folder

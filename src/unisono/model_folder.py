"""Unisono model folders: writing one from a training run, exporting an inference copy, and
finding the default model shipped with the package.

A Unisono model folder::

    DIR/unisono.json      {"format": 1, "tasks": [...], "codec": "default" | "codec",
                           "text_encoder": "default" | PATH, "length_mode": "clip" | "fixed", ...,
                           "recipes": {TASK: {"cfg": 7.0, ...}}}  (optional: the model's own
                                       sampling defaults over the tasks' recipes)
    DIR/generator/        config.json + model.safetensors (+ ema.safetensors)
    DIR/codec/            (only when the model was trained with a codec other than the shipped one)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from unisono.errors import UnisonoError
from unisono.models.dit import DiT
from unisono.models.pretrained import CONFIG_FILE, EMA_FILE, MODEL_FILE, save_model_folder
from unisono.tasks.base import InferenceRecipe

MODEL_INDEX = "unisono.json"
RUN_CONFIG = "train_config.yaml"  # what `unisono train` writes into its run folder
FORMAT_VERSION = 1


def write_model_folder(
    directory: str | Path,
    *,
    generator_dir: str | Path,
    codec_dir: str | Path | None,
    text_encoder: str | None,
    tasks: list[str],
    source_prior: dict[str, float] | None = None,
    source_output: str = "velocity",
    length_mode: str = "clip",
    fixed_seconds: float = 10.0,
    max_seconds: float = 10.0,
) -> Path:
    """Assemble a Unisono model folder from a generator checkpoint folder and its codec.

    Args:
        directory: the folder to write.
        generator_dir: a folder with the generator's config.json and weights (a checkpoint).
        codec_dir: the codec folder it was trained with; None for the shipped codec.
        text_encoder: the text encoder folder; None for the packaged MiniLM.
        tasks: the tasks the generator was trained for.
        source_prior: transformation tasks trained to start from their source, with the
            noise scale around it (the trainer's `flow.source_prior`); None or {}: none.
        source_output: what the generator predicts on those tasks ("velocity" or "change",
            the trainer's `flow.source_output`).
        length_mode: "clip" or "fixed" (see the trainer's data config).
        fixed_seconds: the fixed length in "fixed" mode.
        max_seconds: the longest clip trained on (longer inputs are captioned by windows).
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
        "max_seconds": max_seconds,
    }
    index.update(source_entries(source_prior, source_output))
    read_source_prior(index, directory / MODEL_INDEX)
    read_source_output(index, directory / MODEL_INDEX)
    (directory / MODEL_INDEX).write_text(json.dumps(index, indent=2) + "\n")
    return directory


def export_model_folder(
    source: str | Path, directory: str | Path, *, half: bool = True, tasks: list[str] | None = None,
    recipes: list[str] | None = None,
) -> Path:
    """An inference-only copy of a model folder: the EMA weights (or the raw ones when there is
    no EMA) as the only weights, float16 when `half` (they load back into float32).

    Args:
        source: a model folder (`final/` of a run) or a training checkpoint folder inside one's
            `checkpoints/` (its unisono.json is rebuilt from the run's train_config.yaml).
        directory: the folder to write.
        half: store float16.
        tasks: the tasks to list (default: the source's); needed for a checkpoint folder
            outside a run folder.
        recipes: "TASK.FIELD=VALUE" sampling defaults to store with the model (over the
            source's), e.g. ["t2a.cfg=7"]; the task methods use them unless told otherwise.
    """
    source = Path(source)
    generator_dir = generator_folder(source)
    if not (generator_dir / CONFIG_FILE).is_file():
        raise UnisonoError(f"{source} is neither a model folder nor a generator checkpoint."
                           + _neighbours_hint(source, lambda p: (generator_folder(p) / CONFIG_FILE).is_file()))
    codec_folder = None  # the codec to copy into the export, when not the shipped one
    if (source / MODEL_INDEX).is_file():
        index = json.loads((source / MODEL_INDEX).read_text())
    elif tasks is None and (source.parent.parent / RUN_CONFIG).is_file():
        index, codec_folder = _index_from_run(source.parent.parent / RUN_CONFIG)
    else:
        if tasks is None:
            raise UnisonoError(f"{source} is a bare checkpoint outside a run folder (no "
                               f"../../{RUN_CONFIG}): pass the tasks it was trained for.")
        index = {"format": FORMAT_VERSION, "tasks": tasks, "codec": "default",
                 "text_encoder": "default", "length_mode": "clip", "fixed_seconds": 10.0,
                 "max_seconds": 10.0}
    if tasks is not None:
        index["tasks"] = list(tasks)
    index = with_recipe_settings(index, recipes or [], f"recipes for {directory}")
    read_source_prior(index, f"the model index for {directory}")
    read_source_output(index, f"the model index for {directory}")
    model = DiT.from_pretrained(generator_dir)  # EMA weights when present
    directory = Path(directory)
    save_model_folder(directory / "generator", config=model.config, state=model.state_dict(),
                      half=half)
    if index.get("codec") not in (None, "default"):
        codec_folder = codec_folder or source / index["codec"]
        shutil.copytree(codec_folder, directory / index["codec"], dirs_exist_ok=True)
    (directory / MODEL_INDEX).write_text(json.dumps(index, indent=2) + "\n")
    return directory


def read_recipes(index: dict, where: str | Path) -> dict[str, InferenceRecipe]:
    """A model index's own sampling defaults ("recipes": task -> fields), each over its task's
    recipe; tasks without an entry are absent.

    Raises:
        UnisonoError: not a mapping, an unknown task, a task the model was not trained for, or a
            bad field (`InferenceRecipe.replace`).
    """
    from unisono.tasks import get_task

    entries = index.get("recipes") or {}
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise UnisonoError(f'{where}: "recipes" must map task names to recipe fields, e.g. '
                           '{"t2a": {"cfg": 7.0}}.')
    recipes = {}
    for task, fields in entries.items():
        if task not in index.get("tasks", []):
            get_task(task)  # an unknown name is its own error
            raise UnisonoError(f"{where}: a recipe for {task!r}, which the model was not trained "
                               f"for (it knows {', '.join(index.get('tasks', []))}).")
        recipes[task] = get_task(task).recipe.replace(fields, where=f"{where}, {task}")
    return recipes


def read_source_prior(index: dict, where: str | Path) -> dict[str, float]:
    """A model index's "source_prior" (task -> noise scale; {} when absent), checked.

    Raises:
        UnisonoError: not a mapping, a task that cannot start from its source, one the model
            was not trained for, or a bad noise scale.
    """
    from unisono.tasks import check_source_prior

    entries = index.get("source_prior") or {}
    if not isinstance(entries, dict):
        raise UnisonoError(f'{where}: "source_prior" must map task names to noise scales, e.g. '
                           '{"se": 0.5}.')
    check_source_prior(entries, index.get("tasks", []), where=str(where))
    return {task: float(scale) for task, scale in entries.items()}


def source_entries(source_prior: dict[str, float] | None, source_output: str) -> dict:
    """A model index's "source_prior" and "source_output" entries ({} without a prior; the
    output only when it is not the default velocity)."""
    if not source_prior:
        return {}
    entries: dict = {"source_prior": dict(sorted(source_prior.items()))}
    if source_output != "velocity":
        entries["source_output"] = source_output
    return entries


def read_source_output(index: dict, where: str | Path) -> str:
    """A model index's "source_output": what its generator predicts on the source-prior tasks,
    "velocity" (when absent) or "change" (`unisono.flow.path.ChangeVelocity`)."""
    from unisono.flow.path import check_source_output

    return check_source_output(index.get("source_output", "velocity"), str(where))


def with_recipe_settings(index: dict, settings: list[str], where: str) -> dict:
    """`index` with "TASK.FIELD=VALUE" settings (e.g. "t2a.cfg=7", "t2a.cfg_interval=0.1,0.9")
    merged into its "recipes", checked and normalised as `read_recipes` reads them; `index`
    itself when there are no settings."""
    if not settings:
        return index
    recipes = {task: dict(fields) for task, fields in (index.get("recipes") or {}).items()}
    for setting in settings:
        key, sep, value = setting.partition("=")
        task, dot, name = key.partition(".")
        if not sep or not dot or not task or not name or not value:
            raise UnisonoError(f"bad recipe setting {setting!r}: write TASK.FIELD=VALUE, e.g. "
                               "t2a.cfg=7 or t2a.cfg_interval=0.1,0.9.")
        recipes.setdefault(task, {})[name] = value.split(",") if "," in value else value
    checked = read_recipes({**index, "recipes": recipes}, where)
    normalised = {task: {name: getattr(checked[task], name) for name in fields}
                  for task, fields in recipes.items()}
    return {**index, "recipes": normalised}


def _index_from_run(run_config: Path) -> tuple[dict, Path | None]:
    """The unisono.json a run writes into final/, rebuilt from its train_config.yaml, and the
    codec folder the run named (None: the shipped codec)."""
    from unisono.config import load_config
    from unisono.train.config import TrainGeneratorConfig, source_prior_of

    config = load_config(TrainGeneratorConfig, run_config)
    codec = Path(config.run.codec) if config.run.codec else None
    index = {
        "format": FORMAT_VERSION,
        "tasks": sorted(name for name, weight in config.tasks.items() if weight > 0),
        "codec": "codec" if codec is not None else "default",
        "text_encoder": config.run.text_encoder or "default",
        "length_mode": config.data.length_mode,
        "fixed_seconds": config.data.fixed_seconds,
        "max_seconds": config.data.max_seconds,
    }
    index.update(source_entries(source_prior_of(config.flow), config.flow.source_output))
    return index, codec


def _neighbours_hint(source: Path, wanted: Callable[[Path], bool]) -> str:
    """Names the `wanted` folders beside a missing `source` (e.g. `step-3000` asked for,
    `step-00003000` there), as a sentence to append to an error, or ""."""
    if source.exists() or not source.parent.is_dir():
        return ""
    found = sorted(p.name for p in source.parent.iterdir() if p.is_dir() and wanted(p))
    return f" Folders there that are: {', '.join(found)}." if found else ""


def require_model_index(directory: Path) -> Path:
    """The unisono.json of a model folder, or a clear error naming the model folders beside it."""
    index_path = directory / MODEL_INDEX
    if not index_path.is_file():
        raise UnisonoError(
            f"{directory} is not a Unisono model folder (no {MODEL_INDEX}); use the final/ "
            "folder written by `unisono train`."
            + _neighbours_hint(directory, lambda p: (p / MODEL_INDEX).is_file())
        )
    return index_path


def generator_folder(path: Path) -> Path:
    """The generator weights of a model folder (its generator/ subfolder), or `path` itself when
    it is not one (a generator or checkpoint folder)."""
    return path / "generator" if (path / MODEL_INDEX).is_file() else path


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


def model_dir(path: str | Path | None) -> Path:
    """A model folder from a user's argument: None or the word "default" name the shipped model
    (a folder that happens to be called default is reached as ./default)."""
    return default_model_dir() if path is None or str(path) == "default" else Path(path)

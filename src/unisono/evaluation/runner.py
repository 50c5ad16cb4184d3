"""Run an evaluation: build a task's test examples, run the model (resumably), score, report.

`evaluate_task` writes into OUT:

- audio/NNN_target.wav, NNN_input.wav (transformations), NNN_codec.wav (the codec round trip)
  and NNN_model.wav (NNN_model_sS.wav per step count when several are asked for); text answers
  live in outputs.json. Outputs already there and made from the same example, model, steps and
  seed are reused, so a stopped run resumes;
- spectrograms/NNN.png for the first few examples (target, input, model: top to bottom);
- report.json and report.md: a row per system (model, ground truth, codec round trip, input; see
  `unisono.evaluation.plans`), a column per metric, every cell a number or "unavailable: ...".

`evaluate_all` runs every task the model has into OUT/<task>/ and writes OUT/summary.json and
OUT/summary.md. Without a manifest, a seeded world test split is rendered into OUT/world_test.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unisono.data.clips import pool_from_manifests
from unisono.errors import UnisonoError
from unisono.evaluation import report as reporting
from unisono.evaluation.examples import EvalExample, build_examples
from unisono.evaluation.plans import (
    CODEC_ROW,
    INPUT_ROW,
    MODEL_ROW,
    ROW_NOTES,
    TASK_METRICS,
    TRUTH_ROW,
    RowItem,
    rows_of,
    task_keys,
    task_specs,
)
from unisono.evaluation.references import ReferenceModels
from unisono.evaluation.running import (
    CLONE_TASKS,
    TEXT_TASKS,
    TRANSFORM_TASKS,
    OutputStore,
    run_model,
)
from unisono.evaluation.scoring import score_row, unavailable_row
from unisono.tasks import TASKS, ClipPool, get_task

DEFAULT_N = 20
MAX_SECONDS = 10.0
SPECTROGRAMS = 3
WORLD_TEST_FOLDER = "world_test"


def load_model(model: Any) -> tuple[Any, str]:
    """(Unisono, identity) from a folder, "default" / None (the shipped model) or a loaded model.

    The identity (folder and weight-file times) keys resumed outputs to the weights that made them.
    """
    from unisono.model_folder import model_dir
    from unisono.pipeline import Unisono

    if isinstance(model, Unisono):
        return model, getattr(model, "evaluation_id", f"in-memory model {id(model)}")
    folder = model_dir(model)
    loaded = Unisono.from_pretrained(folder)
    stamps = sorted(f"{p.name}:{p.stat().st_mtime_ns}" for p in folder.rglob("*.safetensors"))
    return loaded, f"{folder.resolve()} {' '.join(stamps)}"


def default_manifest(out: str | Path, *, n: int, seed: int = 0) -> Path:
    """OUT/world_test/manifest.jsonl, rendered (seeded, no stems) when it is not there: 10 n
    clips (20 to 1,000) of all kinds, so every task has n examples and FD's ground-truth row has
    clips besides the targets."""
    from unisono.world.writer import render_world

    folder = Path(out) / WORLD_TEST_FOLDER
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        render_world(folder, n=int(np.clip(10 * n, 20, 1000)), seed=seed, split="test",
                     write_stems=False, progress=False)
    return manifest


def resolve_manifest(manifest: str | Path | None, out: str | Path, *, n: int, seed: int) -> Path:
    """The given manifest (checked), or the default world test manifest in OUT."""
    if manifest is None:
        return default_manifest(out, n=n, seed=seed)
    path = Path(manifest)
    if not path.is_file():
        raise UnisonoError(f"manifest {path} not found: give a JSONL test manifest (`unisono world "
                           "render --split test --out DIR` writes one) or leave --manifest out to "
                           "render a seeded world test split into the output folder.")
    return path


def _steps_list(steps: int | Sequence[int] | None) -> list[int | None]:
    values = [steps] if steps is None or isinstance(steps, int) else list(steps)
    if not values or any(v is not None and v < 1 for v in values):
        raise UnisonoError(f"steps must be positive whole numbers; got {steps!r}.")
    return list(dict.fromkeys(values))


def _row_name(steps: int | None, several: bool) -> str:
    return f"{MODEL_ROW} ({steps} steps)" if several else MODEL_ROW


def _file_role(steps: int | None, several: bool) -> str:
    return f"model_s{steps}" if several else "model"


def _hash(*parts: object) -> str:
    return hashlib.sha1(" ".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _other_references(task: str, pool: ClipPool, examples: list[EvalExample], n: int, seed: int
                      ) -> list[np.ndarray] | str:
    """Up to n clips of the task's kinds that are not targets (FD's ground-truth comparison)."""
    from unisono.data.clips import load_clip

    used = {example.clip_id for example in examples}
    others = sorted((e for e in pool.of_kinds(get_task(task).kinds) if e.id not in used),
                    key=lambda entry: entry.id)
    if len(others) < 2:
        return (f"the manifest has {len(others)} clip(s) of kind "
                f"{'/'.join(get_task(task).kinds)} besides the {len(examples)} targets; comparing "
                "the targets with other real clips needs at least 2 (use a larger test manifest)")
    order = np.random.default_rng([seed, len(others)]).permutation(len(others))[:n]
    return [np.array(load_clip(pool, others[int(i)]), dtype=np.float32) for i in order]


class _TaskRun:
    """State of one task's evaluation: examples, stored outputs, rows."""

    def __init__(self, task: str, model: Any, identity: str, out: Path, steps: list[int | None],
                 seed: int, progress: bool, cfg: float | None = None) -> None:
        self.task, self.model, self.identity, self.out = task, model, identity, out
        self.steps, self.seed, self.progress = steps, seed, progress
        self.cfg = cfg
        self.several = len(steps) > 1
        self.store = OutputStore(out, model.sample_rate)
        self.files: list[dict[str, str]] = []
        self.texts: list[dict[str, str]] = []

    def _iterate(self, examples: list[EvalExample], what: str) -> Any:
        if not self.progress:
            return examples
        from tqdm import tqdm

        return tqdm(examples, desc=f"{self.task} {what}", unit="example")

    def _keep(self, example: EvalExample, role: str, audio: np.ndarray, fingerprint: str
              ) -> np.ndarray:
        name = f"{example.index:03d}_{role}"
        kept = self.store.audio(name, fingerprint, lambda: audio)
        self.files[example.index][role] = f"audio/{name}.wav"
        return kept

    def references(self, examples: list[EvalExample]) -> dict[str, list[RowItem]]:
        rows: dict[str, list[RowItem]] = {TRUTH_ROW: [], CODEC_ROW: [], INPUT_ROW: []}
        codec = self.model.codec
        for example in examples:
            self.files.append({})
            self.texts.append({})
            prefix = example.prefix_samples
            fingerprint = example.fingerprint()
            if self.task in TEXT_TASKS:
                self._keep(example, "clip", example.target, fingerprint)
                references = example.captions[1:] if self.task == "caption" else None
                first = example.captions[0] if example.captions else ""
                rows[TRUTH_ROW].append(RowItem(text=first, references=references))
                continue
            target = self._keep(example, "target", example.target, fingerprint)
            rows[TRUTH_ROW].append(RowItem(audio=target[prefix:], spoken=target))
            name = f"{example.index:03d}_codec"
            decoded = self.store.audio(name, _hash(fingerprint, self.identity, "codec"),
                                       lambda e=example: codec.roundtrip(e.target, e.sample_rate))
            self.files[example.index]["codec"] = f"audio/{name}.wav"
            rows[CODEC_ROW].append(RowItem(audio=decoded[prefix:], spoken=decoded))
            if example.source is not None:
                source = self._keep(example, "input", example.source, fingerprint)
                rows[INPUT_ROW].append(RowItem(audio=source))
        return rows

    def model_rows(self, examples: list[EvalExample]) -> dict[str, list[RowItem]]:
        rows: dict[str, list[RowItem]] = {}
        predicted: list[float | None] = [None] * len(examples)
        if any(spec.model_only for spec in task_specs(self.task)):
            predicted = list(self.model.predict_duration([e.instruction for e in examples]))
        for steps in self.steps:
            role = _file_role(steps, self.several)
            items = []
            for example in self._iterate(examples, role):
                seed = self.seed + example.index
                # A guidance override joins the fingerprint; without one, outputs stored by
                # earlier versions still match.
                guidance = () if self.cfg is None else (f"cfg={self.cfg:g}",)
                fingerprint = _hash(example.fingerprint(), self.identity, steps, seed, *guidance)
                name = f"{example.index:03d}_{role}"

                def make(e: EvalExample = example, s: int = seed, k: int | None = steps) -> Any:
                    return run_model(self.model, e, steps=k, seed=s, cfg=self.cfg)

                if self.task in TEXT_TASKS:
                    text = self.store.text(name, fingerprint, make)
                    self.texts[example.index][role] = text
                    items.append(RowItem(text=text))
                    continue
                audio = self.store.audio(name, fingerprint, make)
                self.files[example.index][role] = f"audio/{name}.wav"
                spoken = None
                if self.task in CLONE_TASKS:
                    spoken = np.concatenate([example.target[:example.prefix_samples], audio])
                items.append(RowItem(audio=audio, spoken=spoken,
                                     predicted_duration=predicted[example.index]))
            rows[_row_name(steps, self.several)] = items
        return rows

    def spectrograms(self, examples: list[EvalExample], model_items: list[RowItem],
                     count: int) -> list[str]:
        written = []
        for example, item in list(zip(examples, model_items, strict=True))[:count]:
            if item.audio is None:
                continue
            clips = [example.target[example.prefix_samples:]]
            if example.source is not None:
                clips.append(example.source)
            clips.append(item.audio)
            path = self.out / "spectrograms" / f"{example.index:03d}.png"
            reporting.spectrogram_png(path, clips, example.sample_rate)
            written.append(path.relative_to(self.out).as_posix())
        return written


def _example_scores(per_row: dict[str, dict[str, list[Any]]], position: int,
                    example: EvalExample) -> dict[str, Any]:
    """One example's share of the rows' per-example values: {"scores": {row: {column: value}}}
    and, where a metric transcribed the outputs, {"heard": {row: transcript}} beside the
    transcript the example should say."""
    scores = {row: {key: values[position] for key, values in columns.items() if key != "heard"}
              for row, columns in per_row.items()}
    heard = {row: columns["heard"][position] for row, columns in per_row.items()
             if "heard" in columns}
    found: dict[str, Any] = {"scores": {row: v for row, v in scores.items() if v}}
    if heard:
        found.update(transcript=example.transcript, heard=heard)
    return found


def _panels(task: str) -> list[str]:
    return ["target", *(["input"] if task in TRANSFORM_TASKS else []), "model"]


def evaluate_pool(task: str, model: Any, pool: ClipPool, out: str | Path, *,
                  references: ReferenceModels, identity: str = "", manifest: str = "",
                  n: int = DEFAULT_N, steps: int | Sequence[int] | None = None, seed: int = 0,
                  cfg: float | None = None, spectrograms: int = SPECTROGRAMS,
                  progress: bool = False) -> dict[str, Any]:
    """Evaluate one task of a loaded model on a clip pool; see `evaluate_task`.

    A pool without the clips the task needs gives a report whose every cell is "unavailable:
    no test examples: ..." rather than an error.
    """
    get_task(task)
    if task not in TASK_METRICS:
        raise UnisonoError(f"task {task!r} has no evaluation plan yet; evaluate another task.")
    if task not in model.tasks:
        raise UnisonoError(f"the model was not trained for {task!r} (it knows "
                           f"{', '.join(model.tasks)}); evaluate one of those or `all`.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    steps_list = _steps_list(steps)
    if cfg is not None and not (math.isfinite(cfg) and cfg >= 1.0):
        raise UnisonoError(f"cfg must be a number of at least 1 (1 = no guidance); got {cfg!r}.")
    if task in TEXT_TASKS:
        cfg = None  # answers are sampled without guidance
    several = len(steps_list) > 1
    model_rows = [_row_name(s, several) for s in steps_list]
    report: dict[str, Any] = {
        "task": task, "description": get_task(task).description, "model": identity,
        "manifest": manifest, "n": n, "seed": seed, "steps": steps_list,
        "cfg": cfg,
        "columns": task_keys(task), "row_notes": {}, "rows": {}, "examples": 0,
    }
    run = _TaskRun(task, model, identity, out, steps_list, seed, progress, cfg)
    try:
        examples = build_examples(task, pool, n=n, seed=seed)
    except UnisonoError as error:
        report["error"] = str(error)
        report["rows"] = {row: unavailable_row(task, f"no test examples: {error}")
                          for row in rows_of(task, model_rows)}
    else:
        start = time.perf_counter()
        reference_items = run.references(examples)
        generated = run.model_rows(examples)
        generation_seconds = time.perf_counter() - start
        targets = [e.target for e in examples]
        other = (_other_references(task, pool, examples, n, seed)
                 if any(spec.sets for spec in task_specs(task)) else "not used")
        timings: dict[str, float] = {}
        per_row: dict[str, dict[str, list[Any]]] = {}
        start = time.perf_counter()
        for row in rows_of(task, model_rows):
            items = generated.get(row) or reference_items[row]
            per_row[row] = {}
            report["rows"][row] = score_row(
                task, row, items, examples, references, model_row=row in generated,
                reference_set=other if row == TRUTH_ROW else targets, timings=timings,
                per_item=per_row[row])
        report["timing"] = {"generation_s": generation_seconds,
                            "scoring_s": time.perf_counter() - start, "per_metric_s": timings}
        report["examples"] = len(examples)
        report["spectrograms"] = run.spectrograms(examples, generated[model_rows[0]],
                                                  spectrograms)
        report["panels"] = _panels(task)
        report["outputs"] = {"made": run.store.made, "reused": run.store.reused}
        report["per_example"] = [
            {"index": e.index, "clip": e.clip_id, "instruction": e.instruction,
             "seconds": round(e.duration, 4), "files": run.files[e.index],
             **({"answers": run.texts[e.index], "expected": e.answer or e.captions}
                if task in TEXT_TASKS else {}),
             **_example_scores(per_row, position, e)}
            for position, e in enumerate(examples)]
    report["row_notes"] = {row: ROW_NOTES[MODEL_ROW if row in model_rows else row]
                           for row in report["rows"]}
    reporting.write_json(out / "report.json", report)
    reporting.write_text(out / "report.md", reporting.markdown_report(report))
    return report


def _setup(model: Any, manifest: str | Path | None, out: str | Path, *, n: int, seed: int,
           references: ReferenceModels | None, max_seconds: float
           ) -> tuple[Any, str, ClipPool, Path, ReferenceModels]:
    path = resolve_manifest(manifest, out, n=n, seed=seed)
    loaded, identity = load_model(model)
    pool = pool_from_manifests([path], sample_rate=loaded.sample_rate, max_seconds=max_seconds)
    return loaded, identity, pool, path, references or ReferenceModels.load()


def evaluate_task(task: str, *, model: Any = "default", manifest: str | Path | None = None,
                  out: str | Path, n: int = DEFAULT_N, steps: int | Sequence[int] | None = None,
                  seed: int = 0, cfg: float | None = None, references: ReferenceModels | None = None,
                  max_seconds: float = MAX_SECONDS, spectrograms: int = SPECTROGRAMS,
                  progress: bool = False) -> dict[str, Any]:
    """Evaluate one task: run the model on `n` test examples, score, write the report.

    Args:
        task: a task name the model was trained for.
        model: a model folder, "default" (the shipped model) or a loaded `Unisono`.
        manifest: the test manifest; None renders a seeded world test split into `out`.
        out: the output folder (outputs already in it are reused).
        n: test examples.
        steps: solver steps, or several (one model row each); None: the task's recipe.
        cfg: guidance scale for every audio task (1 = none); None: each task's recipe.
        seed: example selection and generation seed (example i is generated with seed + i).
        references: the reference models (default: the shipped tagger / embedder, aiSFX).
        max_seconds: longest test clip.
        spectrograms: how many examples get a log-mel PNG.
        progress: show progress bars.

    Returns:
        The report written to out/report.json.

    Raises:
        UnisonoError: unknown task, a task the model lacks, or a missing manifest.
    """
    if task not in TASKS:
        raise UnisonoError(f"unknown task {task!r}; give 'all' or one of: {', '.join(TASKS)}.")
    loaded, identity, pool, path, refs = _setup(model, manifest, out, n=n, seed=seed,
                                                references=references, max_seconds=max_seconds)
    return evaluate_pool(task, loaded, pool, out, references=refs, identity=identity,
                         manifest=str(path), n=n, steps=steps, seed=seed, cfg=cfg,
                         spectrograms=spectrograms, progress=progress)


def evaluate_all(*, model: Any = "default", manifest: str | Path | None = None,
                 out: str | Path, n: int = DEFAULT_N, steps: int | Sequence[int] | None = None,
                 seed: int = 0, cfg: float | None = None,
                 references: ReferenceModels | None = None, tasks: Sequence[str] | None = None,
                 max_seconds: float = MAX_SECONDS, spectrograms: int = SPECTROGRAMS,
                 progress: bool = False) -> dict[str, Any]:
    """Evaluate every task the model has (or `tasks`) into out/<task>/; write summary files.

    Returns:
        {"model", "manifest", "tasks": {task: report}}, also written to out/summary.json, with
        the one-table summary in out/summary.md.
    """
    loaded, identity, pool, path, refs = _setup(model, manifest, out, n=n, seed=seed,
                                                references=references, max_seconds=max_seconds)
    chosen = list(tasks) if tasks is not None else [t for t in loaded.tasks if t in TASK_METRICS]
    reports = {}
    for task in chosen:
        reports[task] = evaluate_pool(task, loaded, pool, Path(out) / task, references=refs,
                                      identity=identity, manifest=str(path), n=n, steps=steps,
                                      seed=seed, cfg=cfg, spectrograms=spectrograms,
                                      progress=progress)
    summary = {"model": identity, "manifest": str(path), "n": n, "seed": seed,
               "tasks": {task: {"rows": r["rows"], "columns": r["columns"],
                                "examples": r["examples"]} for task, r in reports.items()}}
    reporting.write_json(Path(out) / "summary.json", summary)
    reporting.write_text(Path(out) / "summary.md", reporting.summary_table(reports))
    return {"model": identity, "manifest": str(path), "tasks": reports}

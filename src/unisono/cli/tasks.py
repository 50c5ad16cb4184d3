"""`unisono tts | edit | enhance | upsample | sing | caption`: thin over `Unisono`'s task methods;
`unisono tasks` lists the task registry (and which tasks a model folder was trained for).

`edit` and `caption` also run over a manifest (`--manifest M`): a JSONL file, one object per
line with "audio" (a path, relative to the manifest's folder or absolute) and, for `edit`,
"instruction"; "id" names the output (default: the row number) and, for `caption`, "question"
asks a question instead. Batch runs are resumable: finished items are skipped.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from unisono.cli import add_peak_options
from unisono.errors import UnisonoError


def _model(args: argparse.Namespace):
    from unisono.pipeline import Unisono

    return Unisono.from_pretrained(args.model)


def _task_options(args: argparse.Namespace) -> dict:
    return {"steps": args.steps, "cfg": args.cfg, "seed": args.seed, "peak": args.peak}


@dataclass
class ManifestRow:
    """One batch item: its id, audio path and text fields."""

    id: str
    audio: Path
    fields: dict


def read_manifest(path: str | Path, *, required: tuple[str, ...]) -> list[ManifestRow]:
    """Rows of a JSONL batch manifest; every row needs "audio" and the `required` keys.

    Raises:
        UnisonoError: missing file, bad JSON, a missing column or a duplicate id (row named).
    """
    file = Path(path)
    if not file.is_file():
        raise UnisonoError(f"manifest {file} not found; give a JSONL file with one "
                           '{"audio": PATH, ...} object per line.')
    rows: list[ManifestRow] = []
    seen: set[str] = set()
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise UnisonoError(f"{file} line {number} is not JSON ({err}); write one JSON "
                               "object per line.") from err
        if not isinstance(data, dict):
            raise UnisonoError(f"{file} line {number} is not a JSON object; write "
                               '{"audio": PATH, ...}.')
        for column in ("audio", *required):
            if not str(data.get(column, "")).strip():
                raise UnisonoError(f"{file} line {number} has no {column!r}; every row needs "
                                   f"{', '.join(repr(c) for c in ('audio', *required))}.")
        row_id = str(data.get("id", f"{len(rows):05d}"))
        if row_id in seen:
            raise UnisonoError(f"{file} line {number} repeats id {row_id!r}; give each row its "
                               "own id.")
        seen.add(row_id)
        audio = Path(data["audio"])
        rows.append(ManifestRow(row_id, audio if audio.is_absolute() else file.parent / audio,
                                data))
    if not rows:
        raise UnisonoError(f"{file} has no rows; write one JSON object per line.")
    return rows


def _in_row(row: ManifestRow, error: UnisonoError) -> UnisonoError:
    return UnisonoError(f"item {row.id!r} ({row.audio}): {error} Fix or remove that row and "
                        "run again; finished items are kept.")


def _run_tts(args: argparse.Namespace) -> int:
    result = _model(args).tts(
        args.text, voice=args.voice, voice_text=args.voice_text, gender=args.gender,
        speed=args.speed,
        duration=args.duration, **_task_options(args),
    )
    print(result.save(args.output))
    return 0


def _edit_one(model, audio, instruction: str, args: argparse.Namespace, seed: int):
    options = {**_task_options(args), "seed": seed}
    if args.task:
        return model.transform(audio, instruction, task=args.task, **options)
    return model.edit(audio, instruction, **options)


def _run_edit(args: argparse.Namespace) -> int:
    if args.manifest is None:
        if args.input is None or args.instruction is None or not args.output:
            raise UnisonoError("give INPUT INSTRUCTION -o OUT.wav, or --manifest M --out-dir D.")
        result = _edit_one(_model(args), args.input, args.instruction, args, args.seed)
        print(result.save(args.output))
        return 0
    if not args.out_dir:
        raise UnisonoError("give --out-dir DIR for the edited files of --manifest.")
    from tqdm import tqdm

    rows = read_manifest(args.manifest, required=("instruction",))
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = [(i, row) for i, row in enumerate(rows) if not (out_dir / f"{row.id}.wav").is_file()]
    model = _model(args) if todo else None
    for index, row in tqdm(todo, desc="edit", unit="item"):
        try:
            result = _edit_one(model, row.audio, row.fields["instruction"], args, args.seed + index)
        except UnisonoError as err:
            raise _in_row(row, err) from err
        target = out_dir / f"{row.id}.wav"
        partial = target.with_suffix(".partial.wav")  # a killed run leaves no half-written item
        result.save(partial)
        partial.replace(target)
    print(f"{out_dir} ({len(todo)} edited, {len(rows) - len(todo)} already done)")
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    model = _model(args)
    method = model.enhance if args.command == "enhance" else model.upsample
    options = _task_options(args)
    if args.instruction:
        options["instruction"] = args.instruction
    print(method(args.input, **options).save(args.output))
    return 0


def _run_sing(args: argparse.Namespace) -> int:
    result = _model(args).sing(args.score, gender=args.gender, **_task_options(args))
    print(result.save(args.output))
    return 0


def _describe(model, audio, question: str | None, args: argparse.Namespace, seed: int) -> str:
    if question:
        return model.ask(audio, question, steps=args.steps, seed=seed)
    return model.caption(audio, steps=args.steps, seed=seed)


def _done_ids(path: Path) -> set[str]:
    """Ids already written to a caption output. A line a killed run left half-written is dropped
    from the file (its item runs again)."""
    if not path.is_file():
        return set()
    done, kept = set(), []
    for line in path.read_text().splitlines():
        try:
            done.add(str(json.loads(line)["id"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
        kept.append(line)
    text = "".join(line + "\n" for line in kept)
    if path.read_text() != text:
        path.write_text(text)
    return done


def _run_caption(args: argparse.Namespace) -> int:
    if args.manifest is None:
        if args.input is None:
            raise UnisonoError("give IN.wav, or --manifest M --out FILE.jsonl.")
        print(_describe(_model(args), args.input, args.question, args, args.seed))
        return 0
    if not args.out:
        raise UnisonoError("give --out FILE.jsonl for the answers of --manifest.")
    from tqdm import tqdm

    rows = read_manifest(args.manifest, required=())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _done_ids(out)
    todo = [(i, row) for i, row in enumerate(rows) if row.id not in done]
    model = _model(args) if todo else None
    with out.open("a", encoding="utf-8") as stream:
        for index, row in tqdm(todo, desc="caption", unit="item"):
            question = row.fields.get("question") or args.question
            try:
                text = _describe(model, row.audio, question, args, args.seed + index)
            except UnisonoError as err:
                raise _in_row(row, err) from err
            record = {"id": row.id, "audio": str(row.audio)}
            record.update({"question": question, "answer": text} if question else {"caption": text})
            stream.write(json.dumps(record) + "\n")
            stream.flush()
    print(f"{out} ({len(todo)} written, {len(rows) - len(todo)} already done)")
    return 0


def _common(parser: argparse.ArgumentParser, *, cfg_help: str, output: bool = True) -> None:
    parser.add_argument("-o", "--output", required=output, help="output wav")
    parser.add_argument("--model", default=None, help="model folder (default: shipped model)")
    parser.add_argument("--steps", type=int, default=None, help="solver steps (default: task's)")
    parser.add_argument("--cfg", type=float, default=None, help=cfg_help)
    parser.add_argument("--seed", type=int, default=0, help="item i of a batch uses seed + i")
    add_peak_options(parser)


def task_table(model: str | None = None) -> str:
    """The registry as a Markdown table: name, family, recipe, description; with a model folder
    (or "default"), a column saying whether that model was trained for each task, and the
    model's own sampling defaults (its folder's "recipes") in place of the task's; a task the
    model samples from its source (its folder's "source_prior") says so, with the noise scale
    and, for a model predicting the change there, "predicts the change"."""
    import json

    from unisono.model_folder import (
        model_dir,
        read_recipes,
        read_source_output,
        read_source_prior,
        require_model_index,
    )
    from unisono.tasks import TASKS

    known, recipes, prior, output = None, {}, {}, "velocity"
    if model is not None:
        index_path = require_model_index(model_dir(model))
        index = json.loads(index_path.read_text())
        known, recipes = set(index["tasks"]), read_recipes(index, index_path)
        prior = read_source_prior(index, index_path)
        output = read_source_output(index, index_path)
    header = "| task | family | steps | cfg | description |" + (" in model |" if known else "")
    lines = [header, "|" + "---|" * (6 if known else 5)]
    for name in sorted(TASKS, key=lambda n: (TASKS[n].family, n)):
        task = TASKS[name]
        recipe = recipes.get(name, task.recipe)
        row = f"| {name} | {task.family} | {recipe.steps} | {recipe.cfg:g} | {task.description} |"
        if known is not None:
            if name in prior:
                change = ", predicts the change" if output == "change" else ""
                row += f" yes, from its source (noise {prior[name]:g}{change}) |"
            else:
                row += " yes |" if name in known else " no |"
        lines.append(row)
    return "\n".join(lines)


def _run_tasks(args: argparse.Namespace) -> int:
    print(task_table(args.model))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `tasks`, `tts`, `edit`, `enhance`, `upsample`, `sing` and `caption`."""
    tasks = subparsers.add_parser("tasks", help="list the tasks (and which a model knows)")
    tasks.add_argument("--model", default=None,
                       help="model folder or 'default': mark the tasks it was trained for")
    tasks.set_defaults(func=_run_tasks)

    tts = subparsers.add_parser("tts", help="speech from text (zero-shot with --voice REF.wav)")
    tts.add_argument("text")
    tts.add_argument("--voice", default=None, help="reference recording to clone")
    tts.add_argument("--voice-text", default=None, help="transcript of the --voice recording")
    tts.add_argument("--gender", choices=["female", "male"], default=None)
    tts.add_argument("--speed", choices=["slow", "normal", "fast"], default=None)
    tts.add_argument("--duration", type=float, default=None, help="seconds (default: predicted)")
    _common(tts, cfg_help="guidance scale (default: task's)")
    tts.set_defaults(func=_run_tts)

    edit = subparsers.add_parser('edit', help='edit audio by instruction ("Remove the siren"); '
                                 'batch: --manifest M --out-dir D')
    edit.add_argument("input", nargs="?")
    edit.add_argument("instruction", nargs="?")
    edit.add_argument("--task", default=None, help="force a task (default: read from the instruction)")
    edit.add_argument("--manifest", default=None,
                      help='JSONL rows {"audio", "instruction", "id"?} (batch mode)')
    edit.add_argument("--out-dir", default=None, help="folder for --manifest (finished skipped)")
    _common(edit, cfg_help="guidance scale (default: task's)", output=False)
    edit.set_defaults(func=_run_edit)

    sing = subparsers.add_parser("sing", help="singing from a score JSON (notes + lyrics)")
    sing.add_argument("score", help='{"key": "D", "notes": [{"pitch", "onset", "offset", "lyric"}]}')
    sing.add_argument("--gender", choices=["female", "male"], default="female")
    _common(sing, cfg_help="guidance scale (default: task's)")
    sing.set_defaults(func=_run_sing)

    for name, help_text in (("enhance", "remove noise and echo from speech"),
                            ("upsample", "restore the high band of band-limited audio")):
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument("input")
        parser.add_argument("--instruction", default=None, help="override the default instruction")
        _common(parser, cfg_help="guidance scale (default 1: none, as UniFlow-Audio)")
        parser.set_defaults(func=_run_restore)

    caption = subparsers.add_parser(
        "caption", help="describe audio, or answer --question; batch: --manifest M --out F.jsonl")
    caption.add_argument("input", nargs="?", help="audio file")
    caption.add_argument("--question", default=None, help="ask this instead of captioning")
    caption.add_argument("--manifest", default=None,
                         help='JSONL rows {"audio", "question"?, "id"?} (batch mode)')
    caption.add_argument("--out", default=None, help="JSONL answers for --manifest (appended; "
                         "ids already there are skipped)")
    caption.add_argument("--model", default=None, help="model folder (default: shipped model)")
    caption.add_argument("--steps", type=int, default=None,
                         help="unmasking steps (default: task's; 1 = one-step greedy)")
    caption.add_argument("--seed", type=int, default=0, help="item i of a batch uses seed + i")
    caption.set_defaults(func=_run_caption)

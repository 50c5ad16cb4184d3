"""`unisono tts | edit | enhance | upsample | sing`: thin over `Unisono`'s task methods."""

from __future__ import annotations

import argparse


def _model(args: argparse.Namespace):
    from unisono.pipeline import Unisono

    return Unisono.from_pretrained(args.model)


def _sampling(args: argparse.Namespace) -> dict:
    return {"steps": args.steps, "cfg": args.cfg, "seed": args.seed}


def _run_tts(args: argparse.Namespace) -> int:
    result = _model(args).tts(
        args.text, voice=args.voice, voice_text=args.voice_text, gender=args.gender,
        speed=args.speed,
        duration=args.duration, **_sampling(args),
    )
    print(result.save(args.output))
    return 0


def _run_edit(args: argparse.Namespace) -> int:
    model = _model(args)
    if args.task:
        result = model.transform(args.input, args.instruction, task=args.task, **_sampling(args))
    else:
        result = model.edit(args.input, args.instruction, **_sampling(args))
    print(result.save(args.output))
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    model = _model(args)
    method = model.enhance if args.command == "enhance" else model.upsample
    options = _sampling(args)
    if args.instruction:
        options["instruction"] = args.instruction
    print(method(args.input, **options).save(args.output))
    return 0


def _run_sing(args: argparse.Namespace) -> int:
    result = _model(args).sing(args.score, gender=args.gender, **_sampling(args))
    print(result.save(args.output))
    return 0


def _common(parser: argparse.ArgumentParser, *, cfg_help: str) -> None:
    parser.add_argument("-o", "--output", required=True, help="output wav")
    parser.add_argument("--model", default=None, help="model folder (default: shipped model)")
    parser.add_argument("--steps", type=int, default=None, help="solver steps (default: task's)")
    parser.add_argument("--cfg", type=float, default=None, help=cfg_help)
    parser.add_argument("--seed", type=int, default=0)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `tts`, `edit`, `enhance` and `upsample`."""
    tts = subparsers.add_parser("tts", help="speech from text (zero-shot with --voice REF.wav)")
    tts.add_argument("text")
    tts.add_argument("--voice", default=None, help="reference recording to clone")
    tts.add_argument("--voice-text", default=None, help="transcript of the --voice recording")
    tts.add_argument("--gender", choices=["female", "male"], default=None)
    tts.add_argument("--speed", choices=["slow", "normal", "fast"], default=None)
    tts.add_argument("--duration", type=float, default=None, help="seconds (default: predicted)")
    _common(tts, cfg_help="guidance scale (default: task's)")
    tts.set_defaults(func=_run_tts)

    edit = subparsers.add_parser("edit", help='edit audio by instruction ("Remove the siren")')
    edit.add_argument("input")
    edit.add_argument("instruction")
    edit.add_argument("--task", default=None, help="force a task (default: read from the instruction)")
    _common(edit, cfg_help="guidance scale (default: task's)")
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


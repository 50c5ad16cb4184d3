"""`unisono codec encode|decode|roundtrip|eval` and `unisono train-codec`: thin over the Python API
(`unisono.codec_files`, `unisono.codec_eval`, `unisono.codec_train`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unisono.audio import load_audio, save_audio
from unisono.codec_eval import evaluate_manifest, report_markdown
from unisono.codec_files import decode_file, encode_file, export_codec, load_codec


def _run_encode(args: argparse.Namespace) -> int:
    print(encode_file(load_codec(args.model), args.input, args.output))
    return 0


def _run_decode(args: argparse.Namespace) -> int:
    print(decode_file(load_codec(args.model), args.input, args.output))
    return 0


def _run_roundtrip(args: argparse.Namespace) -> int:
    codec = load_codec(args.model)
    audio, sample_rate = load_audio(args.input)
    print(save_audio(args.output, codec.roundtrip(audio, sample_rate), sample_rate))
    return 0


def _run_eval(args: argparse.Namespace) -> int:
    report = evaluate_manifest(
        load_codec(args.model), args.manifest, max_seconds=args.max_seconds, limit=args.limit
    )
    table = report_markdown(report)
    print(table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        out.with_suffix(".md").write_text(table)
    return 0


def _run_export(args: argparse.Namespace) -> int:
    print(export_codec(args.source, args.output, half=not args.fp32))
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from unisono.codec_train import TrainCodecConfig, train_codec
    from unisono.config import load_config

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    config = load_config(TrainCodecConfig, args.config, args.overrides)
    print(train_codec(config, resume=args.resume))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `codec` (encode / decode / roundtrip / eval) and `train-codec` to the CLI."""
    codec = subparsers.add_parser("codec", help="encode / decode / evaluate audio with the codec")
    actions = codec.add_subparsers(dest="codec_command", required=True)

    def model_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--model",
            default=None,
            help="codec folder (config.json + model.safetensors); default: shipped",
        )

    encode = actions.add_parser("encode", help="audio file -> latent .safetensors")
    encode.add_argument("input")
    encode.add_argument("-o", "--output", required=True)
    model_option(encode)
    encode.set_defaults(func=_run_encode)

    decode = actions.add_parser("decode", help="latent .safetensors -> wav at the codec rate")
    decode.add_argument("input")
    decode.add_argument("-o", "--output", required=True)
    model_option(decode)
    decode.set_defaults(func=_run_decode)

    roundtrip = actions.add_parser("roundtrip", help="encode + decode, same rate and length")
    roundtrip.add_argument("input")
    roundtrip.add_argument("-o", "--output", required=True)
    model_option(roundtrip)
    roundtrip.set_defaults(func=_run_roundtrip)

    evaluate = actions.add_parser("eval", help="SI-SDR / log-mel L1 / LSD per kind on a manifest")
    evaluate.add_argument("manifest")
    evaluate.add_argument("--out", default=None, help="report.json (a .md table is written beside)")
    evaluate.add_argument("--max-seconds", type=float, default=10.0, help="score each clip's start")
    evaluate.add_argument("--limit", type=int, default=None, help="evaluate the first N clips")
    model_option(evaluate)
    evaluate.set_defaults(func=_run_eval)

    export = actions.add_parser("export", help="write an inference-only codec folder (EMA weights)")
    export.add_argument("source", help="a training checkpoint or final/ folder")
    export.add_argument("-o", "--output", required=True)
    export.add_argument("--fp32", action="store_true", help="keep float32 weights (default float16)")
    export.set_defaults(func=_run_export)

    train = subparsers.add_parser("train-codec", help="train a codec from a YAML config")
    train.add_argument("config")
    train.add_argument(
        "--set",
        dest="overrides",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override config values, e.g. --set run.max_steps=1000 optim.lr=3e-4",
    )
    train.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue from the newest checkpoint in run.output_dir (default)",
    )
    train.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    train.set_defaults(func=_run_train)

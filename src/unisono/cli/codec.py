"""`unisono codec encode|decode|roundtrip|eval` and `unisono train-codec`: thin over the Python API.

Latent files are safetensors holding "latent" (C, T) with metadata: the codec sample rate, the
number of samples at that rate, and the original file's rate (decode writes at the codec rate).
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from unisono.audio import load_audio, lowpass, save_audio
from unisono.data.manifest import read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.metrics import METRICS
from unisono.models.codec import Codec

REFERENCE_LOWPASS_HZ = 6000.0


def default_codec_dir() -> Path:
    """The codec folder shipped inside the package (`unisono/assets/codec`)."""
    folder = Path(str(importlib.resources.files("unisono") / "assets" / "codec"))
    if not (folder / "config.json").is_file():
        raise UnisonoError(
            f"no shipped codec at {folder}: this installation has no trained codec yet. Pass "
            "--model DIR with a folder from `unisono train-codec` (its final/ subfolder)."
        )
    return folder


def load_codec(model_dir: str | None) -> Codec:
    """`Codec.from_pretrained` of `model_dir`, or of the shipped codec when None."""
    return Codec.from_pretrained(model_dir if model_dir else default_codec_dir())


def encode_file(codec: Codec, input_path: str | Path, output_path: str | Path) -> Path:
    """Encode an audio file to a latent safetensors file."""
    audio, sample_rate = load_audio(input_path)
    latent = codec.encode_audio(audio, sample_rate)
    num_samples = -(-audio.shape[0] * codec.sample_rate // sample_rate)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        {"latent": latent.contiguous()},
        str(output_path),
        metadata={
            "sample_rate": str(codec.sample_rate),
            "num_samples": str(num_samples),
            "source_sample_rate": str(sample_rate),
            "hop": str(codec.hop),
        },
    )
    return output_path


def decode_file(codec: Codec, input_path: str | Path, output_path: str | Path) -> Path:
    """Decode a latent safetensors file to a wav at the codec rate."""
    input_path = Path(input_path)
    if not input_path.is_file():
        raise UnisonoError(f"latent file not found: {input_path}")
    try:
        with safe_open(str(input_path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        latent = load_file(str(input_path))["latent"]
    except (SafetensorError, KeyError, OSError) as err:
        raise UnisonoError(
            f"{input_path} is not a latent file written by `unisono codec encode`: {err}"
        ) from err
    if int(metadata.get("sample_rate", codec.sample_rate)) != codec.sample_rate:
        raise UnisonoError(
            f"{input_path} was made by a {metadata['sample_rate']} Hz codec but "
            f"--model is {codec.sample_rate} Hz: decode with the same codec."
        )
    num_samples = int(metadata["num_samples"]) if "num_samples" in metadata else None
    audio = codec.decode_latent(latent, num_samples=num_samples)
    return save_audio(output_path, audio, codec.sample_rate)


def evaluate_manifest(
    codec: Codec, manifest: str | Path, *, max_seconds: float = 10.0, limit: int | None = None
) -> dict:
    """Round-trip every clip of a manifest; mean metrics per kind, plus a 6 kHz low-pass row."""
    entries = read_manifest(manifest)[:limit]
    if not entries:
        raise UnisonoError(f"{manifest} lists no clips to evaluate")
    sums: dict[tuple[str, str], dict[str, list[float]]] = {}
    for entry in entries:
        audio, sr = load_audio(resolve_path(entry, manifest), codec.sample_rate)
        audio = audio[: int(max_seconds * sr)]
        kind = entry.kind or "audio"
        candidates = {
            "codec": codec.roundtrip(audio, sr),
            f"lowpass {REFERENCE_LOWPASS_HZ / 1000:g} kHz": lowpass(
                audio, sr, REFERENCE_LOWPASS_HZ
            ),
        }
        for system, estimate in candidates.items():
            scores = sums.setdefault((system, kind), {name: [] for name in METRICS})
            for name, metric in METRICS.items():
                scores[name].append(metric(audio, estimate, sr))
    rows = [
        {
            "system": system,
            "kind": kind,
            "clips": len(scores["si_sdr"]),
            **{name: float(np.mean(values)) for name, values in scores.items()},
        }
        for (system, kind), scores in sorted(sums.items())
    ]
    return {
        "manifest": str(manifest),
        "rows": rows,
        "dnsmos": "unavailable: speechmos not installed",
    }


def report_markdown(report: dict) -> str:
    """A Markdown table of an `evaluate_manifest` report."""
    lines = [
        "| system | kind | clips | log-mel L1 | LSD | SI-SDR (dB) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['system']} | {row['kind']} | {row['clips']} | {row['log_mel_l1']:.3f} "
            f"| {row['lsd']:.3f} | {row['si_sdr']:.2f} |"
        )
    lines.append(f"\nDNSMOS: {report['dnsmos']}")
    return "\n".join(lines) + "\n"


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


def _run_train(args: argparse.Namespace) -> int:
    from unisono.codec_train import TrainCodecConfig, train_codec
    from unisono.config import load_config

    if args.threads:
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

    train = subparsers.add_parser("train-codec", help="train a codec from a YAML config")
    train.add_argument("config")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set run.max_steps=1000 (repeatable)",
    )
    train.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue from the newest checkpoint in run.output_dir (default)",
    )
    train.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    train.set_defaults(func=_run_train)

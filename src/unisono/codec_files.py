"""Codec files: the shipped codec folder, latent files (encode / decode) for the CLI and users.

Latent files are safetensors holding "latent" (C, T) with metadata: the codec sample rate, the
number of samples at that rate, and the original file's rate (decode writes at the codec rate).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from unisono.audio import load_audio, save_audio
from unisono.config import save_config
from unisono.errors import UnisonoError
from unisono.files import save_tensors
from unisono.models.codec import Codec
from unisono.models.codec.model import CONFIG_FILE, MODEL_FILE


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
    save_tensors(
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


def export_codec(source: str | Path, destination: str | Path, *, half: bool = True) -> Path:
    """Write an inference-only codec folder: config + one set of weights (EMA when present).

    Training folders hold model and EMA weights in float32; a shipped codec needs only the EMA
    weights, and float16 storage halves the size (they load back into float32 parameters).
    """
    codec = Codec.from_pretrained(source, weights="auto")
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in codec.state_dict().items()}
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    save_config(codec.config, destination / CONFIG_FILE)
    save_tensors({k: v.contiguous() for k, v in state.items()}, str(destination / MODEL_FILE),
              metadata={"format": "pt", "dtype": "float16" if half else "float32"})
    return destination

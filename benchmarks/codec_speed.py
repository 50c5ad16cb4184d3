"""Codec encode + decode speed in multiples of real time (target: >= 50x on 2 CPU cores).

Usage: python benchmarks/codec_speed.py [--model DIR] [--preset tiny] [--seconds 30] [--threads 2]
Without --model a randomly initialised codec of the preset is timed (speed does not depend on the
weights). Prints one line per stage and the combined figure.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from unisono.models.codec import CODEC_PRESETS, Codec, codec_preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="codec folder (default: random preset)")
    parser.add_argument("--preset", default="tiny", choices=sorted(CODEC_PRESETS))
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    codec = (
        Codec.from_pretrained(args.model) if args.model else Codec(codec_preset(args.preset)).eval()
    )
    rate = codec.sample_rate
    audio = (0.1 * np.random.default_rng(0).standard_normal(int(args.seconds * rate))).astype(
        np.float32
    )
    codec.decode_latent(codec.encode_audio(audio[:rate], rate))  # warm-up
    encode_times, decode_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        latent = codec.encode_audio(audio, rate)
        middle = time.perf_counter()
        codec.decode_latent(latent, num_samples=audio.shape[0])
        encode_times.append(middle - start)
        decode_times.append(time.perf_counter() - middle)
    encode, decode = min(encode_times), min(decode_times)
    params = sum(p.numel() for p in codec.parameters()) / 1e6
    print(
        f"codec {codec.config.architecture} {params:.2f}M params, {args.seconds:g} s of audio, "
        f"{args.threads} threads (best of {args.repeats})"
    )
    print(f"encode          {args.seconds / encode:8.1f}x real time")
    print(f"decode          {args.seconds / decode:8.1f}x real time")
    print(f"encode + decode {args.seconds / (encode + decode):8.1f}x real time")


if __name__ == "__main__":
    main()

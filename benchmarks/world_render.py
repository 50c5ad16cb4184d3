"""Seconds of audio the world renders per second of compute, per kind, on one core.

Usage: python benchmarks/world_render.py [--n 12] [--sample-rate 16000]
Target (issue "Foundation and the synthetic audio world"): sfx and music at least 20x real time.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import torch  # noqa: E402

from unisono.world.render import SceneRenderer  # noqa: E402
from unisono.world.scene import KINDS, SceneSampler  # noqa: E402

TARGETS = {"sfx": 20.0, "music": 20.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="scenes per kind")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    sampler = SceneSampler(sample_rate=args.sample_rate, split="val")
    renderer = SceneRenderer()
    renderer.render(sampler.make("music", seed=99, index=0))  # load the soundfont once, untimed
    print(f"{'kind':<8} {'clips':>5} {'audio s':>8} {'cpu s':>7} {'wall s':>7} {'x rt (cpu)':>10} "
          f"{'x rt (wall)':>11}  target (wall)")
    failed = []
    for kind in args.kinds.split(","):
        audio_seconds = 0.0
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        for index in range(args.n):
            rendered = renderer.render(sampler.make(kind, seed=1, index=index))
            audio_seconds += rendered.duration
        cpu = time.process_time() - cpu_start
        wall = time.perf_counter() - wall_start
        target = TARGETS.get(kind)
        verdict = ""
        if target is not None:
            verdict = f">= {target:.0f}x " + ("ok" if audio_seconds / wall >= target else "FAIL")
            if audio_seconds / wall < target:
                failed.append(kind)
        print(f"{kind:<8} {args.n:>5} {audio_seconds:>8.1f} {cpu:>7.2f} {wall:>7.2f} "
              f"{audio_seconds / cpu:>9.1f}x {audio_seconds / wall:>10.1f}x  {verdict}")
    print("cpu = this process only (speech synthesizers run in child processes: judge them by wall)")
    print("RESULT:", "all targets met" if not failed else f"below target: {', '.join(failed)}")


if __name__ == "__main__":
    main()

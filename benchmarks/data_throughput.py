"""Training examples per second that online synthesis produces, per task, against what the trainer
consumes.

Usage: python benchmarks/data_throughput.py [--manifests M.jsonl ...] [--tasks se,sr,...]
       [--examples 24] [--trainer-steps-per-second 0.5] [--batch-size 16] [--no-time-trainer]

Synthesis is what loader workers do (`unisono.train.loader`): an example's builder (clip loading
through the clip cache, augmentation, mixing), timed on one thread. The training process then
encodes each batch (`BatchAssembler.assemble`: codec encoding of synthesised targets and sources,
text encoding, padding) on its own device and threads, and takes the optimisation step. The
trainer's consumption is batch_size examples per step: --trainer-steps-per-second (given), and,
unless --no-time-trainer, timed: one optimisation step of the tiny generator
(configs/generator/tiny.yaml) on a random batch of the measured mean length, plus the timed
encoding of a real batch of the task, both with the trainer's threads. The "loader encodes" column
is the earlier design (workers encoded too): builder plus codec encoding on the worker's thread.
Target (issue 5): synthesis at least 5x faster than the trainer consumes.
Without --manifests a small world (sfx, music, speech, scene) is rendered to a temporary folder.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from unisono.codec_files import load_codec  # noqa: E402
from unisono.data.synthesis import AugmentConfig, augment  # noqa: E402
from unisono.tasks import get_task  # noqa: E402

TASK_NAMES = ("edit_add", "edit_remove", "edit_replace", "edit_extract", "edit_restyle", "timed",
              "se", "sr")
TARGET_RATIO = 5.0
REPO = Path(__file__).resolve().parent.parent


def time_trainer_step(batch_size: int, frames: int, threads: int) -> float:
    """Seconds of one optimisation step (forward, flow loss, backward, AdamW) of the tiny
    generator of configs/generator/tiny.yaml on a random edit-like batch (source latents, 24
    instruction tokens)."""
    from unisono.config import load_config
    from unisono.flow import FlowMatching
    from unisono.models.dit import DiT
    from unisono.train import TrainGeneratorConfig
    from unisono.training import build_optimizer

    config = load_config(TrainGeneratorConfig, REPO / "configs" / "generator" / "tiny.yaml")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        generator = torch.Generator().manual_seed(0)
        model = DiT(config.model)
        optimizer = build_optimizer(model, config.optim)
        flow = FlowMatching(time_mean=config.flow.time_mean, time_std=config.flow.time_std)
        channels, tokens = config.model.latent_channels, 24
        latent = torch.randn(batch_size, channels, frames, generator=generator)
        source = torch.randn(batch_size, channels, frames, generator=generator)
        text = tuple(torch.randn(batch_size, tokens, config.model.text_width, generator=generator)
                     for _ in range(config.model.text_layers + 1))
        text_mask = torch.ones(batch_size, tokens, dtype=torch.bool)
        frame_mask = torch.ones(batch_size, frames, dtype=torch.bool)
        times = []
        for _ in range(2):  # the first step warms up allocations; time the second
            start = time.perf_counter()
            example = flow.training_example(latent, generator=generator)
            velocity = model(example.noised, example.flow_time, text_states=text,
                             text_mask=text_mask, source_latent=source,
                             task_tag=torch.ones(batch_size, frames), frame_mask=frame_mask)
            loss = flow.loss(velocity, example, frame_mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
        return times[1]
    finally:
        torch.set_num_threads(previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifests", nargs="*", default=[])
    parser.add_argument("--tasks", default=",".join(TASK_NAMES))
    parser.add_argument("--examples", type=int, default=24, help="examples timed per task")
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--trainer-steps-per-second", type=float, default=0.5)
    parser.add_argument("--trainer-threads", type=int, default=2)
    parser.add_argument("--no-time-trainer", action="store_true",
                        help="skip timing a real tiny trainer step and the batch encoding")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from unisono.config import config_from_dict
    from unisono.models.text_encoder import TextEncoder
    from unisono.train import TrainGeneratorConfig
    from unisono.train.batches import BatchAssembler
    from unisono.train.latents import LatentCache
    from unisono.train.trainer import cached_clips, load_pool

    torch.set_num_threads(1)
    names = args.tasks.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        manifests = args.manifests
        if not manifests:
            from unisono.world.writer import render_world

            print("no --manifests: rendering 48 world clips (sfx, music, speech, scene) ...")
            manifests = [str(render_world(scratch, n=48, seed=args.seed, split="train",
                                          kinds="sfx,music,speech,scene", write_stems=False,
                                          progress=False))]
        config = config_from_dict(TrainGeneratorConfig, {
            "data": {"manifests": list(manifests), "max_seconds": args.max_seconds,
                     "batch_size": args.batch_size},
            "tasks": {name: 1.0 for name in names},
        })
        codec = load_codec(None).eval().requires_grad_(False)
        pool, pairs = load_pool(config)
        pool.sample_rate = codec.sample_rate
        cache = LatentCache(Path(scratch) / "latents", codec)
        cache.build(cached_clips(config, pool, pairs), show_progress=False)
        assembler = BatchAssembler(config=config.data, codec=codec,
                                   text_encoder=TextEncoder.from_pretrained(), cache=cache)
        print(f"pool: {len(pool.entries)} clips from {len(manifests)} manifest(s); "
              f"codec at {codec.sample_rate} Hz; synthesis on 1 thread")
        # librosa loads its effects (and numba compiles) on first use: do that before timing.
        everything = AugmentConfig(stretch_probability=1.0, pitch_probability=1.0,
                                   reverb_probability=1.0, noise_probability=1.0,
                                   lowpass_probability=1.0)
        tone = np.sin(np.arange(codec.sample_rate, dtype=np.float32) * 0.1)
        augment(tone, codec.sample_rate, np.random.default_rng(0), everything)
        rows, seconds_made, batches = [], [], {}
        for name in names:
            task = get_task(name)
            task.build(pool, np.random.default_rng([args.seed, 99]))  # warm caches and imports
            build_time = encode_time = 0.0
            examples = []
            for index in range(args.examples):
                start = time.perf_counter()
                example = task.build(pool, np.random.default_rng([args.seed, 1, index]))
                middle = time.perf_counter()
                with torch.inference_mode():
                    for audio in (example.target, example.source):
                        if audio is not None:
                            codec.encode_audio(audio, codec.sample_rate)
                build_time += middle - start
                encode_time += time.perf_counter() - middle
                seconds_made.append(example.duration)
                examples.append(example)
            rows.append((name, args.examples / build_time,
                         args.examples / (build_time + encode_time)))
            batches[name] = (examples * -(-args.batch_size // len(examples)))[: args.batch_size]
        given = args.trainer_steps_per_second * args.batch_size
        print(f"\ntrainer consumption, given: {args.trainer_steps_per_second:g} steps/s x batch "
              f"{args.batch_size} = {given:.1f} examples/s")
        step, encoding = None, {}
        if not args.no_time_trainer:
            torch.set_num_threads(args.trainer_threads)
            for name, examples in batches.items():
                assembler.assemble(examples[:2], step=0, seed=args.seed)  # warm up
                start = time.perf_counter()
                assembler.assemble(examples, step=0, seed=args.seed)
                encoding[name] = time.perf_counter() - start
            torch.set_num_threads(1)
            frames = int(round(float(np.mean(seconds_made)) * codec.sample_rate / codec.hop))
            try:
                step = time_trainer_step(args.batch_size, frames, args.trainer_threads)
                print(f"trainer consumption, timed: one tiny-generator step (batch "
                      f"{args.batch_size} x {frames} frames, {args.trainer_threads} threads) takes "
                      f"{step:.2f} s, plus the task's batch encoding")
            except Exception as error:  # the benchmark still reports synthesis if the model changed
                print(f"trainer consumption, timed: could not time a step ({error!r})")

    def judged(ratio: float) -> str:
        return f"{ratio:7.1f} {'ok ' if ratio >= TARGET_RATIO else 'LOW'}"

    header = (f"{'task':<14} {'synthesis ex/s':>14} {'x given':>11} {'loader encodes ex/s':>19}")
    if step is not None:
        header += f" {'encode s/batch':>14} {'trainer ex/s':>12} {'x timed':>11}"
    print("\n" + header + f"   (ok: synthesis >= {TARGET_RATIO:g}x consumption)")
    for name, build_rate, loader_rate in rows:
        line = f"{name:<14} {build_rate:14.1f} {judged(build_rate / given)} {loader_rate:19.1f}"
        if step is not None:
            consumed = args.batch_size / (step + encoding[name])
            line += f" {encoding[name]:14.2f} {consumed:12.1f} {judged(build_rate / consumed)}"
        print(line)


if __name__ == "__main__":
    main()

"""Is scoring cheaper than generating? The t2a metric set on 100 ten-second clips vs generation.

Makes `--clips` seeded ten-second clips twice (tones and chirps over coloured noise: one set plays
the generated outputs, the other their references), scores them with the t2a metric set exactly
as `unisono eval t2a` does (`unisono.evaluation.score_row`: FD and FAD on aiSFX embeddings, KL,
IS, class accuracy and event presence through the reference tagger, the CLAP score, the duration
predictor's error), then times two 10 s generations of the model at 25 steps and extrapolates to
the same number of clips. Prints both and PASS when scoring takes less time than generating.

Without --model it uses the shipped default model; when none is shipped yet, a random-weight
generator of the default model's architecture (configs/default.yaml): generation time does not
depend on the weights.

    python benchmarks/eval_speed.py                         # default model, 100 clips
    python benchmarks/eval_speed.py --model runs/tiny/final --threads 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

SECONDS = 10.0
GENERATIONS = 2
PROMPT = "a siren wails over light rain"
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"


def test_clips(count: int, sample_rate: int, seed: int) -> list[np.ndarray]:
    """`count` ten-second clips: one to three tones or chirps over coloured noise, seeded."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SECONDS * sample_rate)) / sample_rate
    clips = []
    for _ in range(count):
        noise = np.cumsum(rng.normal(size=t.size)) * 1e-3
        clip = 0.05 * (noise - noise.mean()) / (noise.std() + 1e-9)
        for _ in range(int(rng.integers(1, 4))):
            start, end = rng.uniform(100, 3000, size=2)
            sweep = start + (end - start) * t / SECONDS  # a chirp (a tone when start ~ end)
            phase = 2 * np.pi * np.cumsum(sweep) / sample_rate
            clip = clip + rng.uniform(0.05, 0.3) * np.sin(phase)
        clips.append((clip / max(1.0, np.max(np.abs(clip)) / 0.95)).astype(np.float32))
    return clips


def load_model(folder: str | None):  # noqa: ANN201 (Unisono imported lazily)
    """The given model, the shipped default, or a random one of the default architecture."""
    from unisono.errors import UnisonoError
    from unisono.pipeline import Unisono

    if folder is not None:
        return Unisono.from_pretrained(folder), folder
    try:
        return Unisono.from_pretrained(None), "default"
    except UnisonoError:
        import yaml

        from unisono.codec_files import default_codec_dir
        from unisono.models.codec import Codec
        from unisono.models.dit import DiT, DiTConfig
        from unisono.models.text_encoder import TextEncoder

        config = yaml.safe_load(DEFAULT_CONFIG.read_text())["model"]
        generator = DiT(DiTConfig(**config))
        model = Unisono(generator=generator, codec=Codec.from_pretrained(default_codec_dir()),
                        text_encoder=TextEncoder.from_pretrained(None), tasks=["t2a"])
        return model, f"random weights, {DEFAULT_CONFIG.name} architecture (no default shipped)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both sides")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from unisono.evaluation import MODEL_ROW, EvalExample, ReferenceModels, RowItem, score_row

    model, described = load_model(args.model)
    rate = model.sample_rate
    outputs = test_clips(args.clips, rate, args.seed)
    targets = test_clips(args.clips, rate, args.seed + 1)
    examples = [EvalExample(index=i, task="t2a", instruction=PROMPT, target=target,
                            sample_rate=rate, caption=PROMPT, label="siren", present=["siren"])
                for i, target in enumerate(targets)]

    start = time.perf_counter()
    references = ReferenceModels.load()
    loading = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict_duration([PROMPT] * args.clips)
    items = [RowItem(audio=clip, predicted_duration=seconds)
             for clip, seconds in zip(outputs, predicted, strict=True)]
    timings: dict[str, float] = {}
    values = score_row("t2a", MODEL_ROW, items, examples, references, reference_set=targets,
                       model_row=True, timings=timings)
    scoring = time.perf_counter() - start

    model.generate(PROMPT, duration=1.0, steps=2)  # warm-up: first-call allocations
    start = time.perf_counter()
    for index in range(GENERATIONS):
        model.generate(PROMPT, duration=SECONDS, steps=args.steps, seed=args.seed + index)
    generating = (time.perf_counter() - start) / GENERATIONS * args.clips

    print(f"model: {described}; {args.threads} thread(s)")
    for key, value in values.items():
        print(f"  {key:18} {value:.4f}" if isinstance(value, float) else f"  {key:18} {value}")
    for name, seconds in timings.items():
        print(f"  time {name:13} {seconds:7.1f} s")
    print(f"loading the reference models (once): {loading:7.1f} s")
    print(f"scoring {args.clips} x {SECONDS:.0f} s clips (+ {args.clips} references): "
          f"{scoring:7.1f} s")
    print(f"generating them ({args.steps} steps, extrapolated from {GENERATIONS}): "
          f"{generating:7.1f} s")
    print("PASS" if scoring < generating else "FAIL")


if __name__ == "__main__":
    main()

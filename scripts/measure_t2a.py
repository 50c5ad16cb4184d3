"""Text-to-audio class accuracy and length of a trained model on world test prompts.

For every single-event clip of a world test manifest, the clip's caption (which names one event
class, over a background bed) is the prompt; the model generates audio of the clip's duration, and
the shipped reference tagger's event head judges it as `unisono eval t2a` does: a hit when the
tagger's top event, the background bed left out, is the prompt's class. The same tagger on the
ground-truth clips and on their codec round trips gives the reference rows (the judge's ceiling).
Figures are given over all single-event prompts, over those whose event is one of the world's
procedural classes (the tagger knows those well; the recorded-clip labels much less: see
docs/results.md), and over the prompts with and without a background bed. A second pass without
--duration checks the duration predictor.

    unisono world render --n 200 --seed 0 --split test --kinds sfx --no-stems --out world/test_sfx
    python scripts/measure_t2a.py --model runs/t2a-tiny/final --manifest world/test_sfx/manifest.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from unisono.audio import load_audio, to_mono
from unisono.data.manifest import read_manifest, resolve_path
from unisono.evaluation.oracles import TagAccuracy
from unisono.metrics.base import unavailable
from unisono.models.tagger import Tagger
from unisono.pipeline import Unisono


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--n", type=int, default=100, help="single-event prompts used")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--cfg", type=float, default=None)
    parser.add_argument("--cfg-interval", default=None, metavar="LOW,HIGH",
                        help="guide only at these flow times (default: the t2a recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    parser.add_argument("--tagger", default=None, help="tagger folder (default: the shipped one)")
    parser.add_argument("--only", choices=("bed", "no-bed"), default=None,
                        help="keep only the prompts with (or without) a background bed")
    args = parser.parse_args()

    model = Unisono.from_pretrained(args.model)
    tagger = Tagger.from_pretrained(args.tagger)
    entries = [e for e in read_manifest(args.manifest) if len(e.events) == 1]
    if args.only is not None:
        entries = [e for e in entries if bool(e.extra.get("background")) == (args.only == "bed")]
    entries = entries[: args.n]
    prompts = [e.captions[0] for e in entries]
    classes = [e.events[0].event_class for e in entries]
    beds = [str(e.extra.get("background") or "") for e in entries]
    procedural = [e.extra["event_details"][0].get("source") != "real" for e in entries]
    with_bed = [bool(bed) for bed in beds]
    without_bed = [not bed for bed in with_bed]
    interval = (None if args.cfg_interval is None
                else tuple(float(v) for v in args.cfg_interval.split(",")))
    durations = [float(e.duration) for e in entries]

    truth, roundtrip = [], []
    for entry in entries:
        audio, rate = load_audio(resolve_path(entry, args.manifest))
        audio = to_mono(audio)
        truth.append((audio, rate))
        roundtrip.append(model.codec.roundtrip(audio, rate))

    truth_audio = [audio for audio, _ in truth]
    start = time.perf_counter()
    generated = [
        model.generate(p, duration=d, steps=args.steps, cfg=args.cfg, seed=args.seed + i,
                       cfg_interval=interval).audio
        for i, (p, d) in enumerate(zip(prompts, durations, strict=True))
    ]
    seconds = time.perf_counter() - start
    predicted = model.predict_duration(prompts)

    def judged(clips: list[np.ndarray], rate: int) -> np.ndarray:
        """Per prompt, 1.0 / 0.0 for a hit / miss, NaN where the tagger does not know the class
        (the tagger hears each clip once; every subset's accuracy is read from these)."""
        judge = TagAccuracy(tagger, head="event", name="class_accuracy")
        for clip, label, bed in zip(clips, classes, beds, strict=True):
            judge.update(estimate=clip, sample_rate=rate, label=label, ignore=[bed])
            judge.end_item()
        return np.array(judge.item_values(), dtype=np.float64)

    def accuracy(hits: np.ndarray, subset: list[bool] | None = None) -> float | str:
        kept = hits if subset is None else hits[np.array(subset, dtype=bool)]
        kept = kept[~np.isnan(kept)]
        return float(kept.mean()) if kept.size else unavailable(TagAccuracy.nothing_checked)

    generated_hits = judged(generated, model.sample_rate)
    truth_hits = judged(truth_audio, truth[0][1])
    roundtrip_hits = judged(roundtrip, truth[0][1])
    figures = {
        "prompts": len(entries),
        "accuracy_generated": accuracy(generated_hits),
        "accuracy_ground_truth": accuracy(truth_hits),
        "accuracy_codec_roundtrip": accuracy(roundtrip_hits),
        "procedural_prompts": sum(procedural),
        "procedural_accuracy_generated": accuracy(generated_hits, procedural),
        "procedural_accuracy_ground_truth": accuracy(truth_hits, procedural),
        "procedural_accuracy_codec_roundtrip": accuracy(roundtrip_hits, procedural),
        "bed_prompts": sum(with_bed),
        "bed_accuracy_generated": accuracy(generated_hits, with_bed),
        "bed_accuracy_ground_truth": accuracy(truth_hits, with_bed),
        "no_bed_accuracy_generated": accuracy(generated_hits, without_bed),
        "no_bed_accuracy_ground_truth": accuracy(truth_hits, without_bed),
        "length_error_max_percent": 100 * max(
            abs(len(g) / model.sample_rate - d) / d for g, d in zip(generated, durations, strict=True)
        ),
        "duration_predictor_mean_abs_error_percent": 100 * float(np.mean(
            [abs(p - d) / d for p, d in zip(predicted, durations, strict=True)]
        )),
        "duration_predictor_within_10_percent": float(np.mean(
            [abs(p - d) / d <= 0.1 for p, d in zip(predicted, durations, strict=True)]
        )),
        "generation_real_time_factor": sum(durations) / seconds,
        "steps": args.steps,
        "cfg_interval": args.cfg_interval or "recipe",
    }
    for key, value in figures.items():
        print(f"{key:45s} {value:.3f}" if isinstance(value, float) else f"{key:45s} {value}")
    if args.json:
        # Per prompt (manifest order), 1 / 0 for a hit / miss and null where the tagger does not
        # know the class: two models judged on the same prompts and seeds compare pairwise.
        figures["prompt_ids"] = [e.id for e in entries]
        figures["hits_generated"] = [None if np.isnan(h) else int(h) for h in generated_hits]
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()

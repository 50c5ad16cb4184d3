"""Measure the shipped reference models against the targets of docs/evaluation.md.

- Tagger: top-1 macro F1 (and accuracy, thresholded multi-label macro F1) on the single-event
  clips of a world test set, on the clean audio and after the codec round trip.
- Contrastive embedder: text-to-audio retrieval R@1 / R@5 / R@10 among N world test clips, each
  clip's first manifest caption as its query (a clip whose caption is the very same text also
  counts as a hit; R@1/strict does not count it). `--words` adds the word channel
  (`unisono.models.words`: Whisper-tiny transcripts against the captions' quoted words);
  `--tune-words 0.1,0.3,...` on a validation render lists each weight's recall.

Render the test sets first (once):

    unisono world render --n 1000 --seed 1 --split test --kinds sfx --no-stems --out data/refmodels/sfx_test
    unisono world render --n 500 --seed 0 --split test --no-stems --out data/refmodels/world_test500

then: python scripts/measure_refmodels.py [--tagger DIR] [--clap DIR] [--words] [--json out.json]

The word weight was chosen on a validation render:

    unisono world render --n 200 --seed 3 --split val --no-stems --out data/refmodels/world_val200
    python scripts/measure_refmodels.py --skip tagger --words --n 200 --retrieval-test \
        data/refmodels/world_val200/manifest.jsonl --tune-words 0,0.1,0.2,0.3,0.5,0.75,1,1.5,2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from unisono.audio import load_audio
from unisono.data.manifest import read_manifest, resolve_path
from unisono.models.clap import ContrastiveEmbedder
from unisono.models.tagger import Tagger
from unisono.refmodels.evaluate import measure_retrieval, single_event_clips, tagger_scores


def _clips(manifest: str, indices: list[int] | None = None) -> tuple[list, list[np.ndarray], int]:
    entries = read_manifest(manifest)
    if indices is not None:
        entries = [entries[i] for i in indices]
    audio, rates = [], set()
    for entry in entries:
        clip, rate = load_audio(resolve_path(entry, manifest))
        audio.append(clip)
        rates.add(rate)
    if len(rates) != 1:
        raise SystemExit(f"{manifest} mixes sample rates {sorted(rates)}")
    return entries, audio, rates.pop()


def measure_tagger(tagger: Tagger, manifest: str, *, codec_dir: str | None) -> dict[str, dict]:
    entries = read_manifest(manifest)
    chosen = single_event_clips(entries)
    entries, audio, rate = _clips(manifest, chosen)
    from unisono.codec_files import load_codec
    from unisono.world.sfx import EVENT_CLASSES

    codec = load_codec(codec_dir)
    degraded = [codec.roundtrip(clip, rate) for clip in audio]
    report = {}
    for version, clips in (("clean", audio), ("codec", degraded)):
        prediction = tagger.predict(clips, rate)
        report[version] = tagger_scores(prediction, entries)
        # the procedural classes alone (what generated audio is checked against)
        report[f"{version}/procedural"] = tagger_scores(prediction, entries, classes=EVENT_CLASSES)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tagger", default=None, help="tagger folder (default: shipped)")
    parser.add_argument("--clap", default=None, help="embedder folder (default: shipped)")
    parser.add_argument("--codec", default=None, help="codec folder for the round trip (default: shipped)")
    parser.add_argument("--sfx-test", default="data/refmodels/sfx_test/manifest.jsonl")
    parser.add_argument("--retrieval-test", default="data/refmodels/world_test500/manifest.jsonl")
    parser.add_argument("--n", type=int, default=500, help="clips in the retrieval pool")
    parser.add_argument("--words", action="store_true",
                        help="also rank with the word channel (Whisper-tiny transcripts of the "
                             "clips against the captions' quoted words)")
    parser.add_argument("--tune-words", default=None, metavar="W1,W2,...",
                        help="with --words, report every word weight listed (run on a "
                             "validation render to choose WORD_WEIGHT)")
    parser.add_argument("--skip", choices=("tagger", "clap"), action="append", default=[])
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    report: dict[str, object] = {}
    if "tagger" not in args.skip:
        start = time.time()
        report["tagger"] = measure_tagger(Tagger.from_pretrained(args.tagger), args.sfx_test,
                                          codec_dir=args.codec)
        print(f"tagger on single-event clips of {args.sfx_test} ({time.time() - start:.0f} s):")
        for version, scores in report["tagger"].items():
            print(f"  {version:16s} " + "  ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    if "clap" not in args.skip:
        start = time.time()
        weights = ([float(w) for w in args.tune_words.split(",")] if args.tune_words else None)
        cache = Path(args.retrieval_test).with_name(f"transcripts_{args.n}.json")
        report["clap"] = measure_retrieval(ContrastiveEmbedder.from_pretrained(args.clap),
                                           args.retrieval_test, n=args.n, words=args.words,
                                           weights=weights, transcripts_cache=cache)
        print(f"text-to-audio retrieval among {args.n} clips of {args.retrieval_test} "
              f"({time.time() - start:.0f} s):")
        for name, found in report["clap"].items():
            print(f"  {name:12s} " + "  ".join(f"{k} {v:.3f}" for k, v in found.items()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()

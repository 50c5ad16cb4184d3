"""Whisper-tiny WER of every world voice (corpus WER per voice or per engine).

Usage:
    python scripts/measure_world_wer.py [--n 10] [--seed 0]
    python scripts/measure_world_wer.py --manifest world/test200/manifest.jsonl

The first form speaks n generated sentences with every voice and prints one row per voice (the
issue asks for at most 20% on piper and flite voices). The second transcribes the speech clips of
a rendered world manifest and prints one row per engine: the ground-truth WER an evaluation
report shows for speech tasks is this mixture.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import jiwer
import numpy as np

from unisono.audio import load_audio
from unisono.data import read_manifest, resolve_path
from unisono.world import speech, text
from unisono.world.speech import asr


def voices_table(n: int, seed: int) -> None:
    print("| voice | engine | gender | WER |\n|---|---|---|---|")
    for voice_id in sorted(speech.VOICES):
        voice = speech.VOICES[voice_id]
        rng = np.random.default_rng(seed)
        references, hypotheses = [], []
        for _ in range(n):
            sentence = text.sentence(rng)
            utterance = speech.synthesize(sentence, voice_id, sample_rate=16000)
            references.append(asr.normalize_text(sentence))
            hypotheses.append(asr.normalize_text(asr.transcribe(utterance.audio, 16000)))
        wer = jiwer.wer(references, hypotheses)
        print(f"| {voice_id} | {voice.engine} | {voice.gender} | {100 * wer:.1f}% |", flush=True)


def manifest_table(manifest: Path) -> None:
    pairs: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for entry in read_manifest(manifest):
        if entry.kind != "speech" or not entry.transcript or entry.speaker not in speech.VOICES:
            continue
        audio, rate = load_audio(resolve_path(entry, manifest))
        references, hypotheses = pairs[speech.VOICES[entry.speaker].engine]
        references.append(asr.normalize_text(entry.transcript))
        hypotheses.append(asr.normalize_text(asr.transcribe(audio, rate)))
    everything = ([r for refs, _ in pairs.values() for r in refs],
                  [h for _, hyps in pairs.values() for h in hyps])
    print("| engine | speech clips | WER |\n|---|---|---|")
    for group, (references, hypotheses) in [*sorted(pairs.items()), ("all", everything)]:
        print(f"| {group} | {len(references)} | {100 * jiwer.wer(references, hypotheses):.1f}% |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="sentences per voice")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--manifest", type=Path, help="a rendered world manifest: WER per engine")
    args = parser.parse_args()
    if args.manifest is not None:
        manifest_table(args.manifest)
    else:
        voices_table(args.n, args.seed)


if __name__ == "__main__":
    main()

"""Whisper-tiny WER of every world voice on generated sentences (corpus WER per voice).

Usage: python scripts/measure_world_wer.py [--n 10] [--seed 0]
Prints a Markdown table; the issue asks for at most 20% on piper and flite voices.
"""

from __future__ import annotations

import argparse

import jiwer
import numpy as np

from unisono.world import speech, text
from unisono.world.speech import asr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="sentences per voice")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| voice | engine | gender | WER |\n|---|---|---|---|")
    for voice_id in sorted(speech.VOICES):
        voice = speech.VOICES[voice_id]
        rng = np.random.default_rng(args.seed)
        references, hypotheses = [], []
        for _ in range(args.n):
            sentence = text.sentence(rng)
            utterance = speech.synthesize(sentence, voice_id, sample_rate=16000)
            references.append(asr.normalize_text(sentence))
            hypotheses.append(asr.normalize_text(asr.transcribe(utterance.audio, 16000)))
        wer = jiwer.wer(references, hypotheses)
        print(f"| {voice_id} | {voice.engine} | {voice.gender} | {100 * wer:.1f}% |", flush=True)


if __name__ == "__main__":
    main()

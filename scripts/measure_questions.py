"""Question accuracy of a trained model per question kind, with its most common wrong answers.

Every row of a world manifest is asked each question its metadata answers (how many times a counted
event sounds, the speaker's or singer's gender, the instrument of a music clip, the event of a
single-event clip: `unisono.tasks.understanding.answerable`), with one of the kind's templates;
answers are compared as `unisono eval question` compares them (`normalize_answer`). `unisono eval`
reports one accuracy over all kinds; this breaks it down, which tells a model that learned the easy
kinds (gender) from one that learned them all.

    unisono world render --n 200 --seed 0 --split test --no-stems --out world/test200
    python scripts/measure_questions.py --model default --manifest world/test200/manifest.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np

from unisono.audio import load_audio, to_mono
from unisono.data.manifest import read_manifest, resolve_path
from unisono.evaluation.oracles import normalize_answer
from unisono.pipeline import Unisono
from unisono.tasks.understanding import answerable, question_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--n", type=int, default=None, help="rows used (default: all)")
    parser.add_argument("--steps", type=int, default=None,
                        help="caption denoising steps (default: the question recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()

    model = Unisono.from_pretrained(args.model)
    entries = read_manifest(args.manifest)[: args.n]
    rng = np.random.default_rng(args.seed)
    hits: dict[str, list[bool]] = {}
    wrong: dict[str, Counter[str]] = {}
    for entry in entries:
        questions = answerable(entry)
        if not questions:
            continue
        audio, rate = load_audio(resolve_path(entry, args.manifest))
        audio = to_mono(audio)
        for kind, event, answer in questions:
            got = model.ask(audio, question_text(kind, event, rng), sample_rate=rate,
                            steps=args.steps, seed=args.seed)
            hit = normalize_answer(got) == normalize_answer(answer)
            hits.setdefault(kind, []).append(hit)
            if not hit:
                wrong.setdefault(kind, Counter())[normalize_answer(got)] += 1

    every = [h for values in hits.values() for h in values]
    figures = {
        "questions": len(every),
        "accuracy": float(np.mean(every)) if every else float("nan"),
        "per_kind": {k: {"questions": len(v), "accuracy": float(np.mean(v))}
                     for k, v in sorted(hits.items())},
        "common_wrong_answers": {k: c.most_common(3) for k, c in sorted(wrong.items())},
    }
    print(f"{figures['questions']} questions, accuracy {figures['accuracy']:.3f}")
    for kind, row in figures["per_kind"].items():
        common = ", ".join(f"{a!r} x{n}" for a, n in figures["common_wrong_answers"].get(kind, []))
        print(f"  {kind:<10} {row['accuracy']:.3f} of {row['questions']:>3}"
              + (f"   wrong most often: {common}" if common else ""))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()

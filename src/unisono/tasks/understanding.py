"""Understanding tasks (UAT): captioning and questions about audio, answered as text by the
caption stream of the same weights.

- `caption`: any captioned clip; the instruction asks for a description, the answer is one of the
  clip's captions (users' AudioCaps / MusicCaps rows work as they are): a random one per example,
  or with `data.caption_choice: consensus` always the one that agrees most with the others.
- `question`: short questions with exact answers read from the manifest's metadata: how many
  times a counted event sounds, the speaker's or singer's gender, the instrument of a music clip,
  the event of a single-event clip. Rows without such metadata are simply not used.

The audio is the clip's cached latent, given clean (flow time 0); nothing is synthesised.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError
from unisono.tasks.base import ClipPool, InferenceRecipe, Task, TaskExample, register

CAPTION_TEMPLATES = (
    "Describe the audio.",
    "Write a caption for this sound.",
    "What can be heard in this recording?",
    "Describe what you hear.",
    "Caption this audio clip.",
    "Give a short description of the sound.",
    "What is happening in this audio?",
    "Summarise the audio in one sentence.",
    "Describe this recording.",
    "Tell me what this clip sounds like.",
)

# Question kind -> templates ("{event}" is filled with the event class for counting).
QUESTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "count": (
        "How many times does the {event} sound?",
        "How many times can the {event} be heard?",
        "Count the {event} sounds.",
        "How often does the {event} occur?",
    ),
    "gender": (
        "Is the speaker male or female?",
        "Is the voice a man's or a woman's?",
        "What is the gender of the voice?",
        "Is it a male or a female voice?",
    ),
    "instrument": (
        "What instrument plays?",
        "Which instrument is playing?",
        "What instrument can be heard?",
        "Name the instrument in this music.",
    ),
    "event": (
        "What sound is this?",
        "What makes this sound?",
        "Which sound event can be heard?",
        "Name the sound in this clip.",
    ),
}
QUESTION_KINDS = tuple(QUESTION_TEMPLATES)
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def answerable(entry: ManifestEntry) -> list[tuple[str, str, str]]:
    """The (question kind, event class or "", exact answer) questions a row's metadata answers."""
    found: list[tuple[str, str, str]] = []
    for detail in entry.extra.get("event_details", []) or []:
        count = detail.get("count")
        if isinstance(count, int) and 1 <= count < len(NUMBER_WORDS):
            found.append(("count", str(detail["class"]), NUMBER_WORDS[count]))
    if entry.kind in ("speech", "singing") and entry.gender in ("male", "female"):
        found.append(("gender", "", entry.gender))
    if entry.kind == "music" and entry.instrument:
        found.append(("instrument", "", entry.instrument))
    if entry.kind == "sfx" and len({e.event_class for e in entry.events}) == 1:
        found.append(("event", "", entry.events[0].event_class))
    return found


def question_text(kind: str, event: str, rng: np.random.Generator) -> str:
    """One of the question kind's templates, filled."""
    templates = QUESTION_TEMPLATES[kind]
    return templates[int(rng.integers(len(templates)))].format(event=event)


_WORD = re.compile(r"[a-z0-9#']+")


def _ngram_f1(a: list[str], b: list[str], n: int) -> float:
    """F1 of the clipped n-gram matches of two token lists (0 when either has no n-grams)."""
    grams_a = Counter(tuple(a[i:i + n]) for i in range(len(a) - n + 1))
    grams_b = Counter(tuple(b[i:i + n]) for i in range(len(b) - n + 1))
    if not grams_a or not grams_b:
        return 0.0
    matched = sum((grams_a & grams_b).values())
    return 2.0 * matched / (sum(grams_a.values()) + sum(grams_b.values()))


def consensus_caption(captions: list[str]) -> str:
    """The caption that agrees most with the others: the highest mean, over the other captions,
    of the n-gram F1 (n = 1..4, lower-cased words) averaged over n. The first wins a tie; a lone
    caption is its own consensus.

    A masked-diffusion caption head decodes all positions at once; trained on a random wording
    per example it learns a blend of the clip's wordings and commits pieces of several in one
    caption ("a by a woman in e, lyrics"). One wording per clip, the one its references share
    most, removes that ambiguity (and is the wording consensus metrics such as CIDEr-D reward);
    at the default model's budget it did not lift CIDEr-D (`docs/results.md`).
    """
    if len(captions) < 2:
        return captions[0]
    words = [_WORD.findall(c.lower()) for c in captions]

    def agreement(i: int) -> float:
        return float(np.mean([np.mean([_ngram_f1(words[i], words[j], n) for n in range(1, 5)])
                              for j in range(len(words)) if j != i]))

    scores = [agreement(i) for i in range(len(captions))]
    return captions[int(np.argmax(scores))]


def _usable(pool: ClipPool, rows: list[ManifestEntry]) -> list[ManifestEntry]:
    return [e for e in rows if e.duration is None or e.duration <= pool.max_seconds + 1e-6]


def _build_caption(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    key = ("caption", len(pool.entries), pool.max_seconds)
    if key not in pool.memo:
        pool.memo[key] = _usable(pool, [e for e in pool.entries if e.captions])
    candidates = pool.memo[key]
    if not candidates:
        raise UnisonoError(
            "task caption found no captioned clips up to "
            f"{pool.max_seconds} s in the manifests; add captions or drop the task's weight."
        )
    entry = candidates[int(rng.integers(len(candidates)))]
    instruction = CAPTION_TEMPLATES[int(rng.integers(len(CAPTION_TEMPLATES)))]
    if pool.caption_choice == "consensus":
        key = ("caption.consensus", entry.id)
        if key not in pool.memo:  # once per clip: it is on every caption example's path
            pool.memo[key] = consensus_caption(entry.captions)
        chosen = pool.memo[key]
    else:
        chosen = entry.captions[int(rng.integers(len(entry.captions)))]
    return TaskExample(
        task="caption",
        instruction=instruction,
        duration=float(entry.duration or pool.max_seconds),
        target_clip=entry.id,
        answer=chosen,
    )


def _build_question(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    key = ("question", len(pool.entries), pool.max_seconds)
    if key not in pool.memo:
        by_kind: dict[str, list[tuple[ManifestEntry, str, str]]] = {k: [] for k in QUESTION_KINDS}
        for entry in _usable(pool, pool.entries):
            for kind, event, answer in answerable(entry):
                by_kind[kind].append((entry, event, answer))
        pool.memo[key] = {k: v for k, v in by_kind.items() if v}
    by_kind = pool.memo[key]
    if not by_kind:
        raise UnisonoError(
            "task question found no rows with answerable metadata (counted events, speaker "
            "gender, a music instrument, single-event clips); drop the task's weight."
        )
    # Question kinds are drawn evenly, so the rare ones (counts) are not drowned out.
    kinds = sorted(by_kind)
    kind = kinds[int(rng.integers(len(kinds)))]
    entry, event, answer = by_kind[kind][int(rng.integers(len(by_kind[kind])))]
    return TaskExample(
        task="question",
        instruction=question_text(kind, event, rng),
        duration=float(entry.duration or pool.max_seconds),
        target_clip=entry.id,
        answer=answer,
    )


# Understanding tasks sample text, not audio: the recipe's steps are caption denoising steps.
register(
    Task(
        name="caption",
        family="understanding",
        description="audio captioning: a sentence describing the audio",
        kinds=("sfx", "scene", "music", "speech", "singing", "audio"),
        templates=CAPTION_TEMPLATES,
        build=_build_caption,
        recipe=InferenceRecipe(steps=16, cfg=1.0),
        uses_latent_cache=True,
    )
)
register(
    Task(
        name="question",
        family="understanding",
        description="questions about audio (counts, gender, instrument, event) with short answers",
        kinds=("sfx", "scene", "music", "speech", "singing"),
        templates=tuple(t for kind in QUESTION_KINDS for t in QUESTION_TEMPLATES[kind]),
        build=_build_question,
        recipe=InferenceRecipe(steps=4, cfg=1.0),
        uses_latent_cache=True,
    )
)

"""Captions for world scenes: many templates, several paraphrases per scene, timed variants.

A caption is built from phrases describing each layer of a scene spec (`describe_*`), joined by
templates. Every scene gets at least `MIN_PARAPHRASES` distinct captions; the first plain caption
and one timed caption (onsets and offsets in seconds) are always among them.
"""

from __future__ import annotations

import numpy as np

MIN_PARAPHRASES = 3

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
TIMES_WORDS = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times",
               6: "six times", 7: "seven times", 8: "eight times"}


MASS_WORDS = {"rain", "wind", "thunder", "applause", "water", "glass", "fire", "dripping", "music",
              "speech", "traffic", "static", "laughter", "gunfire", "rumble"}


def article(noun: str) -> str:
    """'a siren', 'an owl hoot'; plural, mass and gerund nouns take none: 'rain', 'footsteps', 'typing'."""
    words = noun.lower().split()
    if not words:
        return noun
    last = words[-1]
    plural = last.endswith("s") and not last.endswith("ss")
    gerund = last.endswith("ing") and last not in ("ring", "king", "wing", "sting", "string", "spring")
    if plural or gerund or words[0] in MASS_WORDS:
        return noun
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def seconds(value: float) -> str:
    """'2 s', '2.5 s' (one decimal at most)."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} s"


# Layer phrases -------------------------------------------------------------------------------

def event_phrases(name: str, verbs: tuple[str, ...], count: int | None, rng: np.random.Generator) -> list[str]:
    """Several ways to say that one event happens: 'a dog barks twice', 'the sound of a dog'."""
    verb = verbs[int(rng.integers(len(verbs)))] if verbs else "sounds"
    phrases = [f"{article(name)} {verb}", f"the sound of {article(name)}", f"{article(name)} can be heard"]
    if count and count > 1:
        times = TIMES_WORDS.get(count, f"{count} times")
        phrases = [f"{article(name)} {verb} {times}", f"{NUMBER_WORDS[min(count, 10)]} {name} sounds",
                   f"{article(name)} is heard {times}"]
    return phrases


def person(gender: str | None) -> str:
    """'a woman', 'a man', or 'a person' when the gender is unknown."""
    return {"female": "a woman", "male": "a man"}.get(gender or "", "a person")


def speech_phrases(gender: str, voice_description: str, text: str, speed_word: str | None) -> list[str]:
    """'a woman says: "..."', 'a man with a Scottish accent speaking: ...'."""
    person_phrase = person(gender)
    manner = f" {speed_word}" if speed_word else ""
    return [
        f'{person_phrase} says{manner}: "{text}"',
        f'{voice_description} speaking{manner}: "{text}"',
        f'{gender} speech{manner}: "{text}"' if gender in ("female", "male") else f'speech: "{text}"',
        f'the words "{text}" spoken by {person_phrase}{manner}',
    ]


def music_phrases(info: dict) -> list[str]:
    """From `music.describe(spec)`: instruments, key, mode, tempo word, style."""
    instruments = info.get("instruments") or ["instrument"]
    lead = " and ".join(instruments[:3])
    key = f" in {info['key']} {info['mode']}" if info.get("key") and info.get("mode") else ""
    tempo_word = info.get("tempo_word", "")
    bpm = f" at {round(info['tempo'])} BPM" if info.get("tempo") else ""
    style = info.get("style", "music")
    noun = {"melody": "melody", "chords": "chord progression", "drums": "drum beat",
            "ensemble": "piece"}.get(style, "music")
    if style == "drums":
        drum_style = info.get("drum_style", "")
        return [
            f"{article(tempo_word)} {drum_style} drum beat{bpm}".replace("  ", " ").strip(),
            f"drums playing {article(drum_style or 'steady')} pattern{bpm}",
            f"a {drum_style or 'steady'} rhythm on a drum kit".replace("  ", " "),
        ]
    return [
        f"{article(tempo_word)} {lead} {noun}{key}".strip(),
        f"{lead} playing {article(noun)}{key}{bpm}",
        f"{article(noun)}{key} played on {article(lead)}, {tempo_word} tempo",
        f"music: {lead}{key}{bpm}",
    ]


def singing_phrases(gender: str, lyrics: str, key: str | None) -> list[str]:
    person_phrase = person(gender)
    in_key = f" in {key}" if key else ""
    return [
        f'{person_phrase} sings{in_key}: "{lyrics}"',
        f'a {gender} voice singing "{lyrics}"{in_key}',
        f'singing by {person_phrase}{in_key}, lyrics "{lyrics}"',
    ]


BACKGROUND_JOINERS = ("over {bg}", "with {bg} in the background", "against {bg}", "amid {bg}",
                      "while {bg} continues", "on top of {bg}")
SEQUENCE_JOINERS = ("{a}, then {b}", "{a}, and then {b}", "first {a}, then {b}", "{a}, and later {b}",
                    "{a}; after that {b}")
TOGETHER_JOINERS = ("{a} while {b}", "{a} as {b}", "{a} and at the same time {b}", "{a}, and meanwhile {b}")


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def combine(
    layers: list[tuple[float, list[str]]],
    background: str | None,
    rng: np.random.Generator,
) -> str:
    """Join (onset, phrases) layers in time order, choosing phrases and joiners at random."""
    ordered = sorted(layers, key=lambda item: item[0])
    text = ""
    for index, (onset, phrases) in enumerate(ordered):
        phrase = phrases[int(rng.integers(len(phrases)))]
        if index == 0:
            text = phrase
            continue
        overlaps = onset - ordered[index - 1][0] < 0.5
        joiners = TOGETHER_JOINERS if overlaps else SEQUENCE_JOINERS
        text = joiners[int(rng.integers(len(joiners)))].format(a=text, b=phrase)
    if background:
        joiner = BACKGROUND_JOINERS[int(rng.integers(len(BACKGROUND_JOINERS)))]
        text = f"{text} {joiner.format(bg=background)}" if text else capitalise(background)
    return capitalise(text)


def timed_caption(timed: list[tuple[float, float, str]], background: str | None) -> str:
    """'From 0.5 s to 2 s a whistle, then from 2.5 s to 4 s a drum roll, over steady rain.'"""
    parts = [f"from {seconds(on)} to {seconds(off)} {what}" for on, off, what in sorted(timed)]
    text = ", then ".join(parts)
    if background:
        text += f", over {background}"
    return capitalise(text)


def paraphrases(
    layers: list[tuple[float, list[str]]],
    timed: list[tuple[float, float, str]],
    background: str | None,
    rng: np.random.Generator,
    *,
    n: int = 4,
) -> list[str]:
    """At least MIN_PARAPHRASES distinct captions: random paraphrases plus one timed caption."""
    captions: list[str] = []
    for _ in range(8 * n):
        caption = combine(layers, background, rng)
        if caption not in captions:
            captions.append(caption)
        if len(captions) >= n - 1:
            break
    if timed:
        captions.append(timed_caption(timed, background))
    filler = 0
    while len(captions) < MIN_PARAPHRASES:  # tiny scenes with few phrase choices
        filler += 1
        base = captions[0] if captions else "Audio"
        extra = f"{base} (a {['short', 'brief', 'clear'][filler % 3]} recording)"
        if extra not in captions:
            captions.append(extra)
    return captions

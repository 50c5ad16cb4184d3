"""The demo's built-in examples, rendered at run time from the synthetic world with fixed seeds.

Nothing is downloaded: sound events come from `unisono.world.sfx`, speech from espeak-ng
(`unisono.world.speech`), degradations from `unisono.world.pairs`. Each `Example` names the task it
shows, the model call that runs it and the reference audio its figures are measured against.

Shapes: S samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unisono.audio import lowpass, place
from unisono.tasks.understanding import CAPTION_TEMPLATES
from unisono.world.music import INSTRUMENTS, Note, Part, render_part
from unisono.world.pairs import enhancement_pair
from unisono.world.sfx import render_event
from unisono.world.speech import synthesize

SPEECH_VOICE = "espeak-en-us-f1"
CLONE_VOICE = "espeak-en-gb-m1"
SPEECH_TEXT = "The small boat drifted slowly across the quiet lake."
REMOVED_EVENT = ("siren", 1.0, 2.0)  # name, onset s, length s
RESTYLE_FROM, RESTYLE_TO = "piano", "violin"
SCENE_SECONDS = 5.0
UPSAMPLE_CUTOFF_HZ = 2000.0
PROMPT_EXAMPLES = (  # task, title, prompt, seconds
    ("t2a", "Text to audio", "A dog barks three times while rain falls", SCENE_SECONDS),
    ("t2m", "Text to music", "A calm piano melody in C major at a slow tempo", SCENE_SECONDS),
    ("timed", "Timed composition",
     "A church bell from 0.5 s to 2 s, then a dog bark from 2.5 s to 3.5 s", SCENE_SECONDS),
    ("t2as", "Speech with sounds",
     'A woman says "The train leaves at nine." In the background: rain.', 3.5),
)
SCORE = {
    "key": "C",
    "notes": [
        {"pitch": 60, "onset": 0.0, "offset": 0.5, "lyric": "twin-"},
        {"pitch": 60, "onset": 0.5, "offset": 1.0, "lyric": "kle"},
        {"pitch": 67, "onset": 1.0, "offset": 1.5, "lyric": "twin-"},
        {"pitch": 67, "onset": 1.5, "offset": 2.0, "lyric": "kle"},
        {"pitch": 69, "onset": 2.0, "offset": 2.5, "lyric": "lit-"},
        {"pitch": 69, "onset": 2.5, "offset": 3.0, "lyric": "tle"},
        {"pitch": 67, "onset": 3.0, "offset": 4.0, "lyric": "star"},
    ],
}


@dataclass
class Example:
    """One demo item.

    Attributes:
        name: file stem of its outputs ("edit_remove").
        task: the model task it needs (must be in `model.tasks`).
        title: heading on the page.
        instruction: the text the model is given (prompt, instruction or question).
        run: `run(model, seed, steps)` calls the model (solver steps; the caption stream keeps its
            own unmasking steps); returns a `GeneratedAudio` or a string (caption / answer).
        inputs: named input audio (S,) shown on the page.
        reference: clean target (S,) the figures are measured against, if any.
        window: (start s, end s) of the removed event, for removal figures.
    """

    name: str
    task: str
    title: str
    instruction: str
    run: Callable[[Any, int, int | None], Any]
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    reference: np.ndarray | None = None
    window: tuple[float, float] | None = None


def _speech(text: str, voice: str, sample_rate: int) -> np.ndarray:
    return synthesize(text, voice, sample_rate=sample_rate).audio.astype(np.float32)


def _melody(sample_rate: int, instrument: str) -> np.ndarray:
    """The same four-bar phrase (C major, 100 BPM) on a General MIDI instrument."""
    notes = [Note(pitch, 0.6 * i, 0.6 * i + 0.55, 90)
             for i, pitch in enumerate((60, 64, 67, 72, 67, 64, 62, 60))]
    part = Part(instrument, INSTRUMENTS[instrument], False, "melody", notes)
    return render_part(part, duration=SCENE_SECONDS, sample_rate=sample_rate).astype(np.float32)


def _prompt_example(task: str, title: str, prompt: str, seconds: float) -> Example:
    """An example of a prompt-only task (`Unisono.generate` with `task=`)."""
    return Example(task, task, title, prompt,
                   lambda m, s, k: m.generate(prompt, duration=seconds, steps=k, seed=s, task=task))


def _scene(seed: int, sample_rate: int, *, with_event: bool) -> np.ndarray:
    """Rain with (optionally) a siren at 1-3 s."""
    total = int(SCENE_SECONDS * sample_rate)
    rain = render_event("rain", seed=seed, duration=SCENE_SECONDS, sample_rate=sample_rate)
    scene = 0.5 * rain
    if with_event:
        name, onset, length = REMOVED_EVENT
        event = render_event(name, seed=seed + 1, duration=length, sample_rate=sample_rate)
        scene = scene + place(event, total, int(onset * sample_rate))
    return scene.astype(np.float32)


def build_examples(tasks: list[str], *, sample_rate: int, seed: int = 0) -> list[Example]:
    """The examples for the tasks a model knows, in page order; same seed, same inputs.

    Args:
        tasks: the model's task names (`model.tasks`).
        sample_rate: the model's rate; inputs are rendered at it.
        seed: seeds every rendered input and every sampling call.
    """
    known = set(tasks)
    rng = np.random.default_rng(seed)
    examples: list[Example] = []
    need_speech = known & {"se", "sr", "tts_clone", "speech_delete", "speech_rewrite"}
    speech = _speech(SPEECH_TEXT, SPEECH_VOICE, sample_rate) if need_speech else None
    for task, title, prompt, seconds in PROMPT_EXAMPLES:
        if task in known:
            examples.append(_prompt_example(task, title, prompt, seconds))
    if "edit_remove" in known:
        scene = _scene(seed, sample_rate, with_event=True)
        clean = _scene(seed, sample_rate, with_event=False)
        name, onset, length = REMOVED_EVENT
        text = f"Remove the {name}"
        examples.append(Example(
            "edit_remove", "edit_remove", "Edit: remove an event", text,
            lambda m, s, k: m.edit(scene, text, sample_rate=sample_rate, steps=k, seed=s),
            inputs={"input": scene}, reference=clean, window=(onset, onset + length)))
    if "edit_add" in known:
        bed = _scene(seed, sample_rate, with_event=False)
        text = "Add a dog barking at 2 s"
        examples.append(Example(
            "edit_add", "edit_add", "Edit: add an event", text,
            lambda m, s, k: m.edit(bed, text, sample_rate=sample_rate, steps=k, seed=s),
            inputs={"input": bed}))
    if "edit_restyle" in known:
        phrase = _melody(sample_rate, RESTYLE_FROM)
        text = f"Play this on {RESTYLE_TO}"
        examples.append(Example(
            "edit_restyle", "edit_restyle", "Edit: another instrument", text,
            lambda m, s, k: m.edit(phrase, text, sample_rate=sample_rate, steps=k, seed=s),
            inputs={f"input ({RESTYLE_FROM})": phrase},
            reference=_melody(sample_rate, RESTYLE_TO)))
    if "speech_insert" in known:
        bed = _scene(seed, sample_rate, with_event=False)
        words = "Please close the window."
        text = f'Add a woman saying "{words}" at 1 s.'
        examples.append(Example(
            "speech_insert", "speech_insert", "Speech edit: insert words", text,
            lambda m, s, k: m.edit(bed, text, sample_rate=sample_rate, steps=k, seed=s),
            inputs={"input": bed}))
    if "speech_rewrite" in known:
        text = 'Change the speech to "The old bridge was closed for the winter."'
        examples.append(Example(
            "speech_rewrite", "speech_rewrite", "Speech edit: rewrite the words", text,
            lambda m, s, k: m.edit(speech, text, sample_rate=sample_rate, steps=k, seed=s),
            inputs={"input": speech}))
    if "se" in known:
        noisy, _ = enhancement_pair(speech, sample_rate, rng, reverb_probability=0.0)
        examples.append(Example(
            "se", "se", "Speech enhancement", "Remove the background noise and the echo.",
            lambda m, s, k: m.enhance(noisy, sample_rate=sample_rate, steps=k, seed=s),
            inputs={"noisy input": noisy}, reference=speech))
    if "sr" in known:
        band_limited = lowpass(speech, sample_rate, UPSAMPLE_CUTOFF_HZ).astype(np.float32)
        examples.append(Example(
            "sr", "sr", f"Upsampling (input low-passed at {UPSAMPLE_CUTOFF_HZ:.0f} Hz)",
            "Restore the high frequencies of this recording.",
            lambda m, s, k: m.upsample(band_limited, sample_rate=sample_rate, steps=k, seed=s),
            inputs={"band-limited input": band_limited}, reference=speech))
    tts_text = "Good morning, the train to the city leaves at nine."
    if known & {"tts", "tts_aligned", "tts_styled"}:
        examples.append(Example(
            "tts", "tts", "Text to speech", tts_text,
            lambda m, s, k: m.tts(tts_text, gender="female", steps=k, seed=s)))
    if "tts_clone" in known:
        voice = _speech("I like to walk along the river in the evening.", CLONE_VOICE, sample_rate)
        examples.append(Example(
            "tts_clone", "tts_clone", "Voice cloning (zero-shot)", tts_text,
            lambda m, s, k: m.tts(tts_text, voice=voice, voice_sample_rate=sample_rate,
                                  voice_text="I like to walk along the river in the evening.",
                                  steps=k, seed=s),
            inputs={"voice to clone": voice}))
    if "svs" in known:
        lyrics = " ".join(n["lyric"] for n in SCORE["notes"]).replace("- ", "")
        examples.append(Example(
            "svs", "svs", "Singing from a score", f"Score in C: {lyrics}",
            lambda m, s, k: m.sing(SCORE, steps=k, seed=s)))
    if known & {"caption", "question"}:
        scene = _scene(seed, sample_rate, with_event=True)
        if "caption" in known:
            examples.append(Example(
                "caption", "caption", "Captioning", CAPTION_TEMPLATES[0],
                lambda m, s, k: m.caption(scene, sample_rate=sample_rate, seed=s),
                inputs={"input": scene}))
        if "question" in known:
            question = "What is making the loud sound?"
            examples.append(Example(
                "question", "question", "Question answering", question,
                lambda m, s, k: m.ask(scene, question, sample_rate=sample_rate, seed=s),
                inputs={"input": scene}))
    return examples

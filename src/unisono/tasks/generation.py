"""Generation tasks from a text description: text-to-audio (t2a) and text-to-music (t2m).

Both draw a whole clip and one of its captions; the target latent comes from the latent cache, so
no waveform work happens per example. Captions are used as written half the time and inside an
instruction template otherwise (UniFlow-Audio appendix C: task instructions).
"""

from __future__ import annotations

import numpy as np

from unisono.errors import UnisonoError
from unisono.tasks.base import ClipPool, InferenceRecipe, Task, TaskExample, fill_template, register

T2A_TEMPLATES = (
    "{caption}",
    "Generate the sound of {caption}.",
    "Create audio: {caption}.",
    "Make a recording where {caption}.",
    "Produce a sound clip: {caption}.",
    "Synthesize audio of {caption}.",
    "I want to hear {caption}.",
    "Sound effect: {caption}.",
    "Render this soundscape: {caption}.",
    "Generate audio in which {caption}.",
    "Please make the sound of {caption}.",
)

T2M_TEMPLATES = (
    "{caption}",
    "Generate music: {caption}.",
    "Compose {caption}.",
    "Play {caption}.",
    "Create a music clip: {caption}.",
    "Make a recording of {caption}.",
    "Write and perform {caption}.",
    "Music, please: {caption}.",
    "Produce a track with {caption}.",
    "I want to hear {caption}.",
    "Generate a piece: {caption}.",
)


def _caption_example(task: Task, pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    candidates = pool.of_kinds(task.kinds)
    if not candidates:
        raise UnisonoError(
            f"task {task.name} found no captioned clips of kind {'/'.join(task.kinds)} up to "
            f"{pool.max_seconds} s in the manifests; add such clips or drop the task's weight."
        )
    entry = candidates[int(rng.integers(len(candidates)))]
    caption = entry.captions[int(rng.integers(len(entry.captions)))]
    # Half the time the bare caption (as users type prompts), otherwise a template.
    template = "{caption}" if rng.random() < 0.5 else task.templates[int(rng.integers(len(task.templates)))]
    duration = entry.duration if entry.duration is not None else pool.max_seconds
    return TaskExample(
        task=task.name,
        instruction=fill_template(template, caption),
        duration=float(duration),
        target_clip=entry.id,
    )


def _build_t2a(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _caption_example(TASKS_BY_NAME["t2a"], pool, rng)


def _build_t2m(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _caption_example(TASKS_BY_NAME["t2m"], pool, rng)


TASKS_BY_NAME = {
    task.name: task
    for task in (
        register(
            Task(
                name="t2a",
                family="generation",
                description="text to audio: sound effects and scenes from a description",
                kinds=("sfx", "scene", "audio"),
                templates=T2A_TEMPLATES,
                build=_build_t2a,
                recipe=InferenceRecipe(steps=25, cfg=4.0),
                uses_latent_cache=True,
            )
        ),
        register(
            Task(
                name="t2m",
                family="generation",
                description="text to music: a described piece",
                kinds=("music",),
                templates=T2M_TEMPLATES,
                build=_build_t2m,
                recipe=InferenceRecipe(steps=25, cfg=4.0),
                uses_latent_cache=True,
            )
        ),
    )
}

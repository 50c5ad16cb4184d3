"""Restoration tasks: speech enhancement (se) and audio super-resolution (sr).

Both degrade a clean clip on the fly with the world's exact pairs (`unisono.world.pairs`) and train
the model to undo it: se adds a noise bed at -5..20 dB SNR to clean speech, after a synthetic room
half the time; sr band-limits any clip at a 2-6 kHz cutoff (nothing remains above it). Source and
target are sample-aligned and equally long (UniFlow-Audio: time-aligned tasks). Clips longer than
`max_seconds` give a random window (UniFlow-Audio trains se / sr on crops). Instructions come from
UniFlow-Audio appendix C; sampling uses no guidance (UniFlow-Audio 5.2: CFG hurts se and sr).

Shapes: S samples (mono float32, the pool's sample rate).
"""

from __future__ import annotations

import numpy as np

from unisono.audio import rms
from unisono.data.clips import load_clip, pool_rate, require_clips, role_clips
from unisono.data.synthesis import SILENT_RMS, random_window
from unisono.errors import UnisonoError
from unisono.tasks.base import TAG_TRANSFORM, ClipPool, InferenceRecipe, Task, TaskExample, register
from unisono.world.pairs import enhancement_pair, superres_pair

SE_KINDS = ("speech",)
SR_KINDS = ("sfx", "scene", "music", "speech", "singing", "audio")
CROP_FACTOR = 4.0  # clips up to this many times max_seconds are cut to a window
MIN_SECONDS = 0.5
ATTEMPTS = 8

SE_TEMPLATES = (
    "Remove the noise and echo.",
    "Enhance this speech.",
    "Clean up this speech recording.",
    "Denoise and dereverberate the voice.",
    "Enhance noisy speech signals by reducing background noise and reverberation.",
    "Improve degraded speech quality by suppressing noise and reverberation while preserving "
    "natural voice characteristics.",
    "Enhance speech signals by suppressing diverse noise types and reverberation, preserving "
    "tonal qualities and timbre across varying SNR conditions.",
    "Make the voice clear: remove the background noise.",
    "Suppress the background noise and the room reverberation.",
    "Restore clean speech from this noisy recording.",
    "Keep only the speaker's voice, without noise or echo.",
)

SR_TEMPLATES = (
    "Restore the high frequencies.",
    "Increase the resolution of this audio.",
    "Upsample this band-limited audio.",
    "Enhance audio quality by increasing its sampling rate or resolution.",
    "Convert low-sampling-rate audio to high-resolution output, recovering lost high-frequency "
    "components and subtle sonic characteristics.",
    "Upsample low-resolution audio signals to higher sampling rates while preserving original "
    "signal details and recovering high-frequency components without introducing audible "
    "artifacts.",
    "Recover the missing treble.",
    "Bandwidth extension: fill in the high frequencies.",
    "Make this muffled audio sound full-band.",
    "Super-resolve this audio.",
    "Bring back the detail above the cutoff frequency.",
)


def clean_clip(task: str, kinds: tuple[str, ...], pool: ClipPool, rng: np.random.Generator
               ) -> np.ndarray:
    """A random window (at most `pool.max_seconds`) of a non-silent clip of the given kinds.

    Raises:
        UnisonoError: the pool holds no such clips, or every clip drawn was silent or too short.
    """
    clips = role_clips(pool, f"{task}.clean.{','.join(kinds)}", lambda entry: entry.kind in kinds)
    candidates = clips.between(MIN_SECONDS, CROP_FACTOR * pool.max_seconds)
    require_clips(candidates, task=task, what=f"{'/'.join(kinds)} clips of {MIN_SECONDS:g} s to "
                  f"{CROP_FACTOR * pool.max_seconds:g} s")
    rate = pool_rate(pool)
    limit = int(pool.max_seconds * rate)
    for _ in range(ATTEMPTS):
        entry = candidates[int(rng.integers(len(candidates)))]
        audio = random_window(load_clip(pool, entry), limit, rng, rate=rate)
        if audio.shape[0] >= MIN_SECONDS * rate and rms(audio) > SILENT_RMS:
            return audio
    raise UnisonoError(f"task {task}: the {'/'.join(kinds)} clips drawn were silent or shorter "
                       f"than {MIN_SECONDS:g} s; check the manifest's clips.")


def _instruction(name: str, rng: np.random.Generator) -> str:
    templates = TASKS_BY_NAME[name].templates
    return templates[int(rng.integers(len(templates)))]


def _build_se(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    clean = clean_clip("se", SE_KINDS, pool, rng)
    noisy, _ = enhancement_pair(clean, pool.sample_rate, rng)
    return TaskExample(task="se", instruction=_instruction("se", rng),
                       duration=clean.shape[0] / pool.sample_rate, target=clean, source=noisy,
                       source_tag=TAG_TRANSFORM)


def _build_sr(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    full = clean_clip("sr", SR_KINDS, pool, rng)
    band_limited, _ = superres_pair(full, pool.sample_rate, rng)
    return TaskExample(task="sr", instruction=_instruction("sr", rng),
                       duration=full.shape[0] / pool.sample_rate, target=full,
                       source=band_limited, source_tag=TAG_TRANSFORM)


TASKS_BY_NAME = {
    task.name: task
    for task in (
        register(Task(
            name="se", family="restoration",
            description="speech enhancement: remove noise and reverberation from speech",
            kinds=SE_KINDS, templates=SE_TEMPLATES, build=_build_se,
            recipe=InferenceRecipe(steps=25, cfg=1.0), time_aligned=True,
        )),
        register(Task(
            name="sr", family="restoration",
            description="super-resolution: restore the band above a 2-6 kHz cutoff",
            kinds=SR_KINDS, templates=SR_TEMPLATES, build=_build_sr,
            recipe=InferenceRecipe(steps=25, cfg=1.0), time_aligned=True,
        )),
    )
}

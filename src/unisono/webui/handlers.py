"""What the web UI's buttons run: one handler per task family, thin over the `Unisono` API.

A handler takes the model and then the values of its tab's controls in their order on the page
(gradio passes them positionally; uploads and recordings arrive as file paths), calls the API and returns what the tab shows: the audio as
(sample rate, int16 samples), a log-mel spectrogram image and the instruction that was used.
Every problem a user can cause (no audio given, an unreadable file, a clip that is too long, an
instruction the model cannot route) reaches the page as a `gradio.Error` carrying the
`UnisonoError` message, which says what is wrong and what to do.

Shapes: S samples, M mel bands, T spectrogram frames, H x W x 3 image pixels.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import gradio as gr
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from unisono.audio import load_audio, log_mel
from unisono.errors import UnisonoError
from unisono.instructions import DEFAULT_INSTRUCTIONS, edit_task_for
from unisono.pipeline import GeneratedAudio, Unisono

AudioOutput = tuple[int, np.ndarray]
TaskOutput = tuple[AudioOutput, np.ndarray, str]

# The restore tab's choices: label -> (task, API method name).
RESTORE_MODES = {
    "enhance (remove noise and echo)": ("se", "enhance"),
    "upsample (restore the high band)": ("sr", "upsample"),
}
GENDER_CHOICES = ("any", "female", "male")
SPEED_CHOICES = ("normal", "slow", "fast")

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """Show a `UnisonoError` on the page as a `gradio.Error` with the same message."""

    @functools.wraps(handler)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        except UnisonoError as err:
            raise gr.Error(str(err), title="Cannot do that", print_exception=False) from err

    return wrapped


# ----- output helpers -----


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] (clipped beyond) as 16-bit PCM, the format every browser plays."""
    return np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def spectrogram_image(
    audio: np.ndarray, sample_rate: int, *, title: str = "", width: float = 8.0, height: float = 3.0
) -> np.ndarray:
    """A log-mel spectrogram (Unisono's metric settings) drawn as an RGB image (H, W, 3) uint8.

    Args:
        audio: mono samples (S,).
        sample_rate: their rate.
        title: text above the plot.
        width, height: figure size in inches (at 100 dpi).
    """
    mel = log_mel(audio, sample_rate).numpy()  # (M, T), log10 power
    hop_seconds = 256 / sample_rate
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    top = float(mel.max()) if mel.size else 0.0
    image = axes.imshow(
        10.0 * mel, origin="lower", aspect="auto", cmap="magma",
        vmin=10.0 * (top - 8.0), vmax=10.0 * top,  # an 80 dB range below the loudest bin
        extent=(0.0, mel.shape[1] * hop_seconds, 0, mel.shape[0]),
    )
    axes.set_xlabel("time (s)")
    axes.set_ylabel("mel band")
    if title:
        axes.set_title(title, fontsize=9, loc="right")
    figure.colorbar(image, ax=axes, label="dB")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def task_output(result: GeneratedAudio, task: str) -> TaskOutput:
    """What a tab shows for one result: audio, spectrogram and the instruction line."""
    used = f"[{task}, seed {result.seed}] {result.prompt}"
    image = spectrogram_image(result.audio, result.sample_rate, title=f"{task}: {result.duration:.2f} s")
    return (result.sample_rate, to_int16(result.audio)), image, used


def _require_audio(path: str | None, what: str) -> str:
    if not path:
        raise UnisonoError(f"no {what}: upload an audio file or record one, then press the button again.")
    return path


def read_input(model: Unisono, path: str | None, *, what: str = "input audio") -> tuple[np.ndarray, int]:
    """An uploaded or recorded clip as mono samples, checked: present, readable, not silent and
    no longer than the model's longest clip."""
    limit = model.generator.config.max_duration
    samples, rate = load_audio(_require_audio(path, what), max_duration=limit, allow_silent=False)
    return samples, rate


def _seed(value: float) -> int:
    return int(value)


def _duration(value: float | None) -> float | None:
    """The duration control: 0 (or empty) lets the model decide."""
    return None if value is None or value <= 0 else float(value)


# ----- handlers: one per task family -----


@user_errors
def generate(
    model: Unisono, prompt: str, task: str, duration: float, steps: float, cfg: float, seed: float
) -> TaskOutput:
    """Text to audio (t2a) or music (t2m)."""
    result = model.generate(prompt or "", task=task, duration=_duration(duration), steps=int(steps),
                            cfg=float(cfg), seed=_seed(seed))
    return task_output(result, task)


@user_errors
def speak(
    model: Unisono, text: str, voice: str | None, voice_text: str, gender: str, speed: str,
    duration: float, steps: float, cfg: float, seed: float,
) -> TaskOutput:
    """Text to speech; with a voice recording, in that voice (zero-shot cloning)."""
    voice_audio, voice_rate = (None, None)
    if voice:
        voice_audio, voice_rate = read_input(model, voice, what="voice recording")
        if not (voice_text or "").strip():
            raise UnisonoError(
                "the voice recording needs its transcript: type the words it says (cloning "
                "conditions on them), or remove the recording for the model's own voice."
            )
    result = model.tts(
        text or "", voice=voice_audio, voice_sample_rate=voice_rate,
        voice_text=voice_text if voice else None,
        gender=None if gender == "any" else gender, speed=speed, duration=_duration(duration),
        steps=int(steps), cfg=float(cfg), seed=_seed(seed),
    )
    task = "tts_clone" if voice else ("tts_styled" if speed != "normal" else "tts")
    if task == "tts_styled" and task not in model.tasks:
        task = "tts"
    return task_output(result, task)


@user_errors
def sing(model: Unisono, score: str | None, gender: str, steps: float, cfg: float,
         seed: float) -> TaskOutput:
    """Singing from a JSON score (notes with lyric syllables)."""
    if not score:
        raise UnisonoError('no score: upload a JSON file {"notes": [{"pitch", "onset", "offset", '
                           '"lyric"}, ...]}, then press the button again.')
    result = model.sing(score, gender="female" if gender == "any" else gender, steps=int(steps),
                        cfg=float(cfg), seed=_seed(seed))
    return task_output(result, "svs")


@user_errors
def edit(model: Unisono, audio: str | None, instruction: str, steps: float, cfg: float,
         seed: float) -> TaskOutput:
    """Edit a clip by instruction; the instruction picks the edit task."""
    if not (instruction or "").strip():
        raise UnisonoError("empty instruction: say what to change, e.g. 'Remove the siren'.")
    task = edit_task_for(instruction)
    samples, rate = read_input(model, audio)
    result = model.transform(samples, instruction, task=task, sample_rate=rate, steps=int(steps),
                             cfg=float(cfg), seed=_seed(seed))
    return task_output(result, task)


@user_errors
def restore(model: Unisono, audio: str | None, mode: str, steps: float, seed: float) -> TaskOutput:
    """Speech enhancement or super-resolution (no guidance, as the tasks are trained)."""
    if mode not in RESTORE_MODES:
        raise UnisonoError(f"unknown restore mode {mode!r}: pick one of {', '.join(RESTORE_MODES)}.")
    task, method = RESTORE_MODES[mode]
    samples, rate = read_input(model, audio)
    result = getattr(model, method)(samples, sample_rate=rate, steps=int(steps), seed=_seed(seed))
    return task_output(result, task)


@user_errors
def understand(model: Unisono, audio: str | None, question: str, steps: float, temperature: float,
               seed: float) -> str:
    """A caption of the clip, or the answer to a question about it when one is given
    (temperature 0 answers greedily; above 0 the seed picks the sampled answer)."""
    samples, rate = read_input(model, audio)
    options: dict[str, Any] = {"sample_rate": rate, "steps": int(steps),
                               "temperature": float(temperature), "seed": _seed(seed)}
    if (question or "").strip():
        return model.ask(samples, question, **options)
    return model.caption(samples, **options)


def default_instruction(task: str) -> str:
    """The fixed instruction of a restoration task (shown in its tab)."""
    return DEFAULT_INSTRUCTIONS[task]

"""Running a model on test examples, and the resumable store of what it produced.

`run_model` calls the pipeline method of each task family: `generate` (text to audio, music,
speech, timed composition: the example's instruction at the target's duration), `transform`
(edits, enhancement, super-resolution, speech edits: the example's source), `tts(voice=...)`
(cloning: the target's first `reference_seconds` as the voice prompt, the continuation generated),
`caption` / `ask` (understanding), and for the phone-aligned tasks (aligned TTS, singing) the
sampler with the example's own phones, so the output lines up with the target frame by frame.
Every task is scored on the raw decoder output (`peak=None`): the pipeline's default peak
ceiling is for listening and files, and the direct sampler paths have none.

`OutputStore` keeps each output under `out/audio/<name>.wav` (text answers in the index) and an
index `out/outputs.json` of name -> fingerprint of what produced it (example, model folder, steps,
seed). An output whose file and fingerprint are present is read back instead of recomputed, so an
interrupted evaluation resumes where it stopped; changing the model or the examples recomputes.

Shapes: S samples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from unisono.audio import load_audio, save_audio
from unisono.errors import UnisonoError
from unisono.evaluation.examples import EvalExample

TRANSFORM_TASKS = ("edit_add", "edit_remove", "edit_replace", "edit_extract", "edit_restyle",
                   "se", "sr", "speech_insert", "speech_delete", "speech_rewrite")
ALIGNED_TASKS = ("tts_aligned", "svs")
CLONE_TASKS = ("tts_clone", "tts_clone_masked")
TEXT_TASKS = ("caption", "question")
OUTPUT_INDEX = "outputs.json"


def fit_length(audio: np.ndarray, samples: int) -> np.ndarray:
    """`audio` cut or zero-padded to exactly `samples` samples."""
    audio = np.asarray(audio, dtype=np.float32)[:samples]
    return np.pad(audio, (0, samples - audio.shape[0])) if audio.shape[0] < samples else audio


def _aligned(model: Any, example: EvalExample, *, steps: int | None, seed: int,
             cfg: float | None = None) -> np.ndarray:
    """Sample from the example's own time-aligned phones (and pitches), decode at its length."""
    if not example.phones or not example.phone_seconds:
        raise UnisonoError(f"example {example.index} of {example.task} has no phones.")
    recipe = model.recipe(example.task)
    pitches = example.phone_pitch or [0] * len(example.phones)
    [latent] = model._sample(
        [example.instruction], [float(sum(example.phone_seconds))], steps=steps or recipe.steps,
        cfg=recipe.cfg if cfg is None else cfg, solver=recipe.solver, sway=recipe.sway, seed=seed,
        cfg_interval=recipe.cfg_interval,
        phones=(list(example.phones), list(example.phone_seconds), list(pitches)),
    )
    audio = model.codec.decode_latent(latent, num_samples=example.target.shape[0])
    return np.asarray(audio, dtype=np.float32)


def _clone(model: Any, example: EvalExample, *, steps: int | None, seed: int,
           cfg: float | None = None) -> np.ndarray:
    """The continuation after the example's voice prompt: `Unisono.tts(voice=...)` when the model
    has `tts_clone`; a model trained only with prompt masking is sampled the same way directly."""
    from unisono.instructions import SourceCondition, tts_instruction
    from unisono.tasks import TAG_REFERENCE

    rate = example.sample_rate
    prefix = example.target[:example.prefix_samples]
    seconds = (example.target.shape[0] - prefix.shape[0]) / rate
    if "tts_clone" in model.tasks:
        return model.tts(example.transcript or "", voice=prefix, voice_sample_rate=rate,
                         duration=seconds, steps=steps, cfg=cfg, seed=seed, peak=None).audio
    recipe = model.recipe(example.task)
    reference = model.codec.encode_audio(prefix, rate)
    [latent] = model._sample(
        [tts_instruction(example.transcript or "", clone=True)],
        [seconds + reference.shape[1] / model.frame_rate], steps=steps or recipe.steps,
        cfg=recipe.cfg if cfg is None else cfg, solver=recipe.solver, sway=recipe.sway, seed=seed,
        cfg_interval=recipe.cfg_interval,
        sources=[SourceCondition(reference, TAG_REFERENCE)],
    )
    return np.asarray(model.codec.decode_latent(latent[:, reference.shape[1]:]), dtype=np.float32)


def run_model(model: Any, example: EvalExample, *, steps: int | None, seed: int,
              cfg: float | None = None) -> np.ndarray | str:
    """The model's output for one example: audio (S,) at the model's rate, or a text answer.

    For cloning tasks the audio is the continuation after the voice prompt only. `steps` and
    `cfg` override the model's recipe for the task (None keeps it); text answers have no guidance.

    Raises:
        UnisonoError: the model was not trained for the task.
    """
    task = example.task
    if task not in model.tasks:
        raise UnisonoError(f"the model was not trained for {task!r} (it knows "
                           f"{', '.join(model.tasks)}).")
    rate = example.sample_rate
    if task == "caption":
        return model.caption(example.target, sample_rate=rate, steps=steps, seed=seed)
    if task == "question":
        return model.ask(example.target, example.instruction, sample_rate=rate, steps=steps,
                         seed=seed)
    if task in TRANSFORM_TASKS:
        assert example.source is not None
        output = model.transform(example.source, example.instruction, task=task,
                                 sample_rate=rate, steps=steps, cfg=cfg, seed=seed,
                                 peak=None).audio
    elif task in ALIGNED_TASKS:
        output = _aligned(model, example, steps=steps, seed=seed, cfg=cfg)
    elif task in CLONE_TASKS:
        remaining = example.target.shape[0] - example.prefix_samples
        return fit_length(_clone(model, example, steps=steps, seed=seed, cfg=cfg), remaining)
    else:
        output = model.generate(example.instruction, duration=example.duration, steps=steps,
                                cfg=cfg, seed=seed, task=task, peak=None).audio
    return fit_length(output, example.target.shape[0])


class OutputStore:
    """Outputs of one evaluation folder, reused when their fingerprint matches.

    Args:
        folder: the evaluation's output folder (audio goes to `folder/audio`).
        sample_rate: the rate audio is written and read at.
    """

    def __init__(self, folder: str | Path, sample_rate: int) -> None:
        self.folder = Path(folder)
        self.audio_folder = self.folder / "audio"
        self.sample_rate = sample_rate
        self.index_path = self.folder / OUTPUT_INDEX
        self.index: dict[str, dict[str, Any]] = {}
        if self.index_path.is_file():
            try:
                self.index = json.loads(self.index_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                self.index = {}  # a torn index only costs recomputation
        self.reused = 0
        self.made = 0

    def path(self, name: str) -> Path:
        """Where the audio output `name` lives."""
        return self.audio_folder / f"{name}.wav"

    def _save_index(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.index_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.index, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
        os.replace(temporary, self.index_path)

    def _known(self, name: str, fingerprint: str) -> bool:
        return self.index.get(name, {}).get("fingerprint") == fingerprint

    def audio(self, name: str, fingerprint: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """The stored audio `name` if made from `fingerprint`, else `make()` saved first."""
        path = self.path(name)
        if self._known(name, fingerprint) and path.is_file():
            audio, rate = load_audio(path)
            if rate == self.sample_rate:
                self.reused += 1
                return audio
        audio = np.asarray(make(), dtype=np.float32)
        self.audio_folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp.wav")
        save_audio(temporary, audio, self.sample_rate)
        os.replace(temporary, path)
        self.index[name] = {"fingerprint": fingerprint}
        self._save_index()
        self.made += 1
        return audio

    def text(self, name: str, fingerprint: str, make: Callable[[], str]) -> str:
        """The stored text output `name` if made from `fingerprint`, else `make()` stored."""
        if self._known(name, fingerprint) and "text" in self.index[name]:
            self.reused += 1
            return str(self.index[name]["text"])
        text = str(make())
        self.index[name] = {"fingerprint": fingerprint, "text": text}
        self._save_index()
        self.made += 1
        return text

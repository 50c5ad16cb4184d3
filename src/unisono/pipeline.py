"""The Python API: `Unisono.from_pretrained(DIR)` and its task methods (model folders:
`unisono.model_folder`).

The CLI (`unisono generate ...`) is a thin layer over this module.

Shapes: S samples, C latent channels, T latent frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from unisono.audio import DEFAULT_PEAK, limit_peak, save_audio
from unisono.codec_files import default_codec_dir
from unisono.errors import UnisonoError
from unisono.flow import ClassifierFreeGuidance, sample
from unisono.flow.path import ChangeVelocity, check_source_output, source_prior
from unisono.flow.text_diffusion import sample_tokens
from unisono.instructions import (
    DEFAULT_INSTRUCTIONS,
    AudioInput,
    SourceCondition,
    edit_task_for,
    read_audio_input,
    read_score,
    score_phones,
    tts_instruction,
)
from unisono.model_folder import (  # noqa: F401  (re-exported: the API's folder helpers)
    FORMAT_VERSION,
    MODEL_INDEX,
    default_model_dir,
    export_model_folder,
    model_dir,
    read_recipes,
    read_source_output,
    read_source_prior,
    require_model_index,
    write_model_folder,
)
from unisono.models.codec import Codec
from unisono.models.dit import DiT
from unisono.models.text_encoder import TextEncoder
from unisono.tasks import TAG_REFERENCE, TAG_TRANSFORM, get_task
from unisono.tasks.base import InferenceRecipe
from unisono.tasks.symbols import symbol_ids

# The tasks generate() runs: audio from an instruction alone, no source audio and no time-aligned
# content (the others have their own methods; tts() builds the speech instructions for you).
TEXT_GENERATION_TASKS = ("t2a", "t2m", "timed", "t2as", "tts", "tts_styled")


@dataclass
class GeneratedAudio:
    """Audio returned by every task method.

    Attributes:
        audio: mono float32 samples (S,), under the method's `peak` ceiling unless that was None.
        sample_rate: samples per second.
        prompt: the instruction that produced it.
        seed: the seed used.
    """

    audio: np.ndarray
    sample_rate: int
    prompt: str = ""
    seed: int = 0

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.audio) / self.sample_rate

    def save(self, path: str | Path) -> Path:
        """Write a WAV file (float32)."""
        return save_audio(path, self.audio, self.sample_rate)


class Unisono:
    """One model for every task it was trained for.

    Args:
        generator: the flow-matching backbone.
        codec: the latent codec.
        text_encoder: the frozen instruction encoder.
        tasks: names of the tasks the model was trained for.
        length_mode: "clip" (duration predicted or given) or "fixed" (trailing silence trimmed).
        fixed_seconds: generated length in "fixed" mode.
        max_seconds: the longest clip the model was trained on; longer inputs are captioned
            window by window.
        recipes: this model's own sampling defaults for some tasks (its folder's "recipes"),
            over the tasks' recipes; see `recipe`.
        source_prior: transformation tasks trained to start from their source latent plus
            noise of this scale (its folder's "source_prior"); the others start from noise.
        source_output: what the generator predicts on those tasks: "velocity", or "change"
            (source minus target latent, turned into a velocity by `ChangeVelocity`).
    """

    def __init__(
        self,
        *,
        generator: DiT,
        codec: Codec,
        text_encoder: TextEncoder,
        tasks: list[str],
        length_mode: str = "clip",
        fixed_seconds: float = 10.0,
        max_seconds: float = 10.0,
        recipes: dict[str, InferenceRecipe] | None = None,
        source_prior: dict[str, float] | None = None,
        source_output: str = "velocity",
    ) -> None:
        self.generator = generator.eval().requires_grad_(False)
        self.codec = codec.eval().requires_grad_(False)
        self.text_encoder = text_encoder
        self.tasks = list(tasks)
        self.length_mode = length_mode
        self.fixed_seconds = fixed_seconds
        self.max_seconds = max_seconds
        self.recipes = dict(recipes or {})
        self.source_prior = dict(source_prior or {})
        self.source_output = check_source_output(source_output, "source_output")

    @classmethod
    def from_pretrained(
        cls, path: str | Path | None = None, *, device: str | torch.device = "cpu"
    ) -> Unisono:
        """Load a model folder (None or "default": the default model shipped with the package)."""
        directory = model_dir(path)
        index_path = require_model_index(directory)
        index = json.loads(index_path.read_text())
        if index.get("format") != FORMAT_VERSION:
            raise UnisonoError(f"{index_path} has format {index.get('format')}; expected 1.")
        codec_dir = default_codec_dir() if index["codec"] == "default" else directory / index["codec"]
        text_path = None if index["text_encoder"] == "default" else index["text_encoder"]
        model = cls(
            generator=DiT.from_pretrained(directory / "generator").to(device),
            codec=Codec.from_pretrained(codec_dir).to(device),
            text_encoder=TextEncoder.from_pretrained(text_path).to(device),
            tasks=index["tasks"],
            length_mode=index.get("length_mode", "clip"),
            fixed_seconds=float(index.get("fixed_seconds", 10.0)),
            max_seconds=float(index.get("max_seconds", 10.0)),
            recipes=read_recipes(index, index_path),
            source_prior=read_source_prior(index, index_path),
            source_output=read_source_output(index, index_path),
        )
        return model

    @property
    def sample_rate(self) -> int:
        """Output sample rate (the codec's)."""
        return self.codec.sample_rate

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.codec.sample_rate / self.codec.hop

    def recipe(self, task: str) -> InferenceRecipe:
        """The sampling defaults the task methods use for `task`: the model's own when its folder
        sets some (`unisono export --recipe`), else the task's recipe (`unisono tasks`)."""
        return self.recipes.get(task) or get_task(task).recipe

    def _require_task(self, task: str) -> None:
        get_task(task)
        if task not in self.tasks:
            raise UnisonoError(
                f"this model was not trained for {task!r} (it knows {', '.join(self.tasks)}); "
                "use a model trained with that task."
            )

    @torch.no_grad()
    def predict_duration(self, prompts: list[str]) -> list[float]:
        """The duration predictor's seconds for each prompt."""
        encoding = self.text_encoder.encode(prompts)
        seconds = self.generator.duration.seconds(encoding.hidden_states[-1], encoding.mask)
        return [float(s) for s in seconds]

    @torch.no_grad()
    def generate(
        self,
        prompt: str | list[str],
        *,
        duration: float | list[float] | None = None,
        steps: int | None = None,
        cfg: float | None = None,
        solver: str | None = None,
        sway: float | None = None,
        seed: int = 0,
        task: str = "t2a",
        cfg_interval: tuple[float, float] | None = None,
        peak: float | None = DEFAULT_PEAK,
    ) -> GeneratedAudio | list[GeneratedAudio]:
        """Generate audio from text: t2a; t2m, timed (events at stated times), t2as (speech
        with sounds), or tts / tts_styled (a speech instruction as the task trains with) with
        `task=`.

        Args:
            prompt: one prompt or a list (a batch).
            duration: seconds (one for all or one per prompt); None lets the duration predictor
                decide (clip models) or uses the fixed length with trailing silence trimmed.
            steps: solver steps (default: the task's recipe).
            cfg: classifier-free guidance scale (default: the task's recipe; 1 = none).
            solver: "euler", "midpoint", "heun" or "rk4".
            sway: sway-sampling coefficient (F5-TTS), 0 for a uniform grid.
            seed: prompt i uses seed + i, so a prompt's audio does not depend on its batch.
            task: the generation task.
            cfg_interval: (t_low, t_high), the flow times (1 = noise) at which guidance applies
                (default: the task's recipe); a single conditional pass elsewhere.
            peak: a clip whose largest absolute sample is above this ceiling (1.0 = full scale)
                is scaled down to it by one gain, so 16-bit / FLAC files and players do not clip
                it; quieter clips are returned as decoded (`unisono.audio.limit_peak`). None
                returns the raw decoder output, which can exceed full scale. Every method that
                returns audio takes it.

        Returns:
            One `GeneratedAudio`, or a list for a list of prompts.
        """
        get_task(task)  # an unknown name is its own error
        if task not in TEXT_GENERATION_TASKS:
            raise UnisonoError(
                f"generate() makes audio from a prompt alone ({', '.join(TEXT_GENERATION_TASKS)}); "
                f"{task!r} is not one of them: use tts() for speech, sing() for singing, "
                "edit() / enhance() / upsample() for a recording, caption() / ask() for text."
            )
        self._require_task(task)
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if not prompts or any(not p.strip() for p in prompts):
            raise UnisonoError("empty prompt: describe the sound to generate.")
        recipe = self.recipe(task)
        seconds = self._durations(prompts, duration)
        latents = self._sample(
            prompts,
            seconds,
            steps=steps or recipe.steps,
            cfg=recipe.cfg if cfg is None else cfg,
            solver=solver or recipe.solver,
            sway=recipe.sway if sway is None else sway,
            seed=seed,
            cfg_interval=recipe.cfg_interval if cfg_interval is None else cfg_interval,
        )
        outputs = []
        for index, (text, length, latent) in enumerate(zip(prompts, seconds, latents, strict=True)):
            audio = self.codec.decode_latent(latent, num_samples=int(round(length * self.sample_rate)))
            audio = audio.numpy() if isinstance(audio, torch.Tensor) else audio
            if duration is None and self.length_mode == "fixed":
                audio = trim_trailing_silence(audio, self.sample_rate)
            outputs.append(self._output(audio, text, seed + index, peak=peak))
        return outputs[0] if isinstance(prompt, str) else outputs

    def _output(self, audio: np.ndarray | torch.Tensor, prompt: str, seed: int, *,
                peak: float | None) -> GeneratedAudio:
        """What every audio-returning method returns: the decoded samples (S,) as float32, scaled
        under `peak` unless it is None."""
        samples = np.asarray(audio, dtype=np.float32)
        if peak is not None:
            samples = limit_peak(samples, peak=peak)
        return GeneratedAudio(samples, self.sample_rate, prompt, seed)

    def _durations(self, prompts: list[str], duration: float | list[float] | None) -> list[float]:
        if duration is None:
            if self.length_mode == "fixed":
                return [self.fixed_seconds] * len(prompts)
            return self.predict_duration(prompts)
        values = [duration] * len(prompts) if isinstance(duration, (int, float)) else list(duration)
        if len(values) != len(prompts):
            raise UnisonoError(f"{len(values)} durations for {len(prompts)} prompts; give one each.")
        limit = self.generator.config.max_duration
        for value in values:
            if not 0 < value <= limit:
                raise UnisonoError(f"duration {value} s is outside (0, {limit}] s.")
        return [float(v) for v in values]

    def _sample(
        self, prompts: list[str], seconds: list[float], *, steps: int, cfg: float, solver: str,
        sway: float, seed: int, sources: list[SourceCondition | None] | None = None,
        phones: tuple[list[str], list[float], list[int]] | None = None,
        cfg_interval: tuple[float, float] = (0.0, 1.0), prior_noise: float | None = None,
    ) -> list[torch.Tensor]:
        """Latents (C, T_i) for a batch; `sources` gives per row a source latent and its tag;
        `phones` (one row) the time-aligned content: symbols, seconds and MIDI pitches. With
        `prior_noise`, rows with a source start from source + prior_noise * noise (a task
        trained with a source prior) instead of from the noise."""
        frames = [max(1, int(np.ceil(s * self.frame_rate))) for s in seconds]
        total = max(frames)
        batch = len(prompts)
        channels = self.generator.config.latent_channels
        noise = torch.zeros(batch, channels, total)
        frame_mask = torch.zeros(batch, total, dtype=torch.bool)
        source_latent = torch.zeros(batch, channels, total)
        task_tag = torch.zeros(batch, total)
        for row, length in enumerate(frames):
            generator = torch.Generator().manual_seed(seed + row)
            noise[row, :, :length] = torch.randn(channels, length, generator=generator)
            frame_mask[row, :length] = True
            source = sources[row] if sources is not None else None
            if source is not None:
                given = min(source.latent.shape[1], length)
                source_latent[row, :, :given] = source.latent[:, :given]
                task_tag[row, :given] = source.tag
                if prior_noise is not None:
                    noise[row] = source_prior(source_latent[row], noise[row], prior_noise)
        encoding = self.text_encoder.encode(prompts)
        states = tuple(encoding.hidden_states)
        dropped = torch.zeros_like(encoding.mask)
        conditions = {
            "text_states": states,
            "text_mask": encoding.mask,
            "frame_mask": frame_mask,
            "source_latent": source_latent,
            "task_tag": task_tag,
            "instruction": self.generator.instruction_inputs(states, encoding.mask),
        }
        if phones is not None:
            conditions["content"] = self._content(phones, total)
            conditions["content_mask"] = torch.ones(batch, dtype=torch.bool)
        # Guidance drops the instruction (and content, as training does); the source stays.
        unconditional = {
            **conditions,
            "text_mask": dropped,
            "instruction": self.generator.instruction_inputs(states, dropped),
        }
        if phones is not None:
            unconditional["content_mask"] = torch.zeros(batch, dtype=torch.bool)
        network = self.generator
        if prior_noise is not None and self.source_output == "change":
            network = ChangeVelocity(self.generator)
        guided = ClassifierFreeGuidance(
            network, conditions=conditions, unconditional=unconditional, scale=cfg,
            interval=cfg_interval,
        )
        latent = sample(guided, noise, num_steps=steps, solver=solver, sway=sway)
        return [latent[row, :, :length] for row, length in enumerate(frames)]

    def _content(self, phones: tuple[list[str], list[float], list[int]], total: int) -> torch.Tensor:
        symbols, seconds, pitches = phones
        ends = np.minimum(np.round(np.cumsum(seconds) * self.frame_rate).astype(np.int64), total)
        frames = torch.from_numpy(np.diff(ends, prepend=0))[None]
        ids = torch.tensor([symbol_ids(symbols)])
        pitch = torch.tensor([[p + 1 if p > 0 else 0 for p in pitches]])
        content, _, _ = self.generator.encode_content(
            ids, pitch, ids > 0, total_frames=total, frames=frames
        )
        return content

    @torch.no_grad()
    def sing(
        self,
        score: str | Path | dict,
        *,
        gender: str = "female",
        steps: int | None = None,
        cfg: float | None = None,
        seed: int = 0,
        peak: float | None = DEFAULT_PEAK,
    ) -> GeneratedAudio:
        """Singing from a score (notes with lyric syllables; see `read_score`); `peak` as for
        `generate`."""
        self._require_task("svs")
        from unisono.tasks.singing import SVS_TEMPLATES, key_words
        from unisono.tasks.speech import fill_instruction, voice_words

        parsed = read_score(score)
        phones = score_phones(parsed, gender=gender)
        instruction = fill_instruction(SVS_TEMPLATES[0], voice=voice_words(gender)[0],
                                       in_key=key_words(parsed.key))
        recipe = self.recipe("svs")
        seconds = float(sum(phones[1]))
        [latent] = self._sample(
            [instruction], [seconds], steps=steps or recipe.steps,
            cfg=recipe.cfg if cfg is None else cfg, solver=recipe.solver, sway=recipe.sway,
            cfg_interval=recipe.cfg_interval, seed=seed, phones=phones,
        )
        audio = self.codec.decode_latent(latent, num_samples=int(round(seconds * self.sample_rate)))
        return self._output(audio, instruction, seed, peak=peak)

    # ----- transformation tasks: the source audio is encoded by the same codec (UNISON) -----

    def _encode_input(self, audio: AudioInput, sample_rate: int | None) -> tuple[torch.Tensor, int]:
        samples, rate = read_audio_input(audio, sample_rate)
        latent = self.codec.encode_audio(samples, rate)
        return latent, int(round(len(samples) * self.sample_rate / rate))

    @torch.no_grad()
    def transform(
        self,
        audio: AudioInput,
        instruction: str,
        *,
        task: str,
        sample_rate: int | None = None,
        steps: int | None = None,
        cfg: float | None = None,
        solver: str | None = None,
        seed: int = 0,
        peak: float | None = DEFAULT_PEAK,
    ) -> GeneratedAudio:
        """Run a transformation task (edit, enhance, upsample, speech edit) on one input.

        The output has the input's length, at the model's sample rate; `peak` as for `generate`.
        """
        self._require_task(task)
        if not instruction.strip():
            raise UnisonoError("empty instruction: say what to do with the audio.")
        recipe = self.recipe(task)
        latent, samples = self._encode_input(audio, sample_rate)
        [result] = self._sample(
            [instruction], [latent.shape[1] / self.frame_rate],
            steps=steps or recipe.steps, cfg=recipe.cfg if cfg is None else cfg,
            solver=solver or recipe.solver, sway=recipe.sway,
            cfg_interval=recipe.cfg_interval, seed=seed,
            sources=[SourceCondition(latent, TAG_TRANSFORM)],
            prior_noise=self.source_prior.get(task),
        )
        output = self.codec.decode_latent(result, num_samples=samples)
        return self._output(output, instruction, seed, peak=peak)

    def edit(self, audio: AudioInput, instruction: str, **options: Any) -> GeneratedAudio:
        """Edit audio by instruction ("Add a dog barking at 2 s", "Remove the siren", ...).

        The edit task is read from the instruction (`edit_task_for`); an instruction that names
        none is an error listing examples.
        """
        return self.transform(audio, instruction, task=edit_task_for(instruction), **options)

    def enhance(
        self, audio: AudioInput, *, instruction: str = DEFAULT_INSTRUCTIONS["se"], **options: Any
    ) -> GeneratedAudio:
        """Speech enhancement: remove noise and reverberation (no guidance by default)."""
        return self.transform(audio, instruction, task="se", **options)

    def upsample(
        self, audio: AudioInput, *, instruction: str = DEFAULT_INSTRUCTIONS["sr"], **options: Any
    ) -> GeneratedAudio:
        """Super-resolution: restore the high band of low-passed audio (no guidance by default)."""
        return self.transform(audio, instruction, task="sr", **options)

    @torch.no_grad()
    def tts(
        self,
        text: str,
        *,
        voice: AudioInput | None = None,
        voice_sample_rate: int | None = None,
        voice_text: str | None = None,
        gender: str | None = None,
        speed: str | None = None,
        duration: float | None = None,
        steps: int | None = None,
        cfg: float | None = None,
        seed: int = 0,
        peak: float | None = DEFAULT_PEAK,
    ) -> GeneratedAudio:
        """Speech from text; with `voice` (a reference recording) in that voice (zero-shot).

        Args:
            text: the words.
            voice: reference audio (path, array or tensor) for zero-shot cloning.
            voice_sample_rate: its rate when it is an array.
            voice_text: the reference's transcript (cloning conditions on it and the new words).
            gender: "female" or "male" (ignored with `voice`).
            speed: "slow", "normal" or "fast".
            duration: seconds of speech to generate (default: predicted).
            peak: the output's peak ceiling, as for `generate` (None: the raw output).
        """
        if voice is None and "tts_aligned" in self.tasks and not ({"tts", "tts_styled"} &
                                                                   set(self.tasks)):
            return self._tts_aligned(text, gender=gender, speed=speed, steps=steps, cfg=cfg,
                                     seed=seed, peak=peak)
        instruction = tts_instruction(text, gender=None if voice is not None else gender,
                                      speed=speed, clone=voice is not None,
                                      reference_text=voice_text)
        styled = speed not in (None, "normal")
        task = "tts_clone" if voice is not None else ("tts_styled" if styled else "tts")
        if task == "tts_styled" and "tts_styled" not in self.tasks:
            task = "tts"
        self._require_task(task)
        recipe = self.recipe(task)
        seconds = duration if duration is not None else self.predict_duration([instruction])[0]
        sources = None
        reference_frames = 0
        if voice is not None:
            reference, _ = self._encode_input(voice, voice_sample_rate)
            reference_frames = reference.shape[1]
            sources = [SourceCondition(reference, TAG_REFERENCE)]
            seconds = seconds + reference_frames / self.frame_rate
        [latent] = self._sample(
            [instruction], [seconds], steps=steps or recipe.steps,
            cfg=recipe.cfg if cfg is None else cfg, solver=recipe.solver, sway=recipe.sway,
            cfg_interval=recipe.cfg_interval, seed=seed, sources=sources,
        )
        audio = self.codec.decode_latent(latent[:, reference_frames:])
        return self._output(audio, instruction, seed, peak=peak)


    def _tts_aligned(self, text: str, *, gender: str | None, speed: str | None,
                     steps: int | None, cfg: float | None, seed: int,
                     peak: float | None) -> GeneratedAudio:
        """TTS from time-aligned phones: espeak-ng turns the words into phones with timing (the
        world's phone alphabet), the generator voices them."""
        from unisono.tasks.speech import ALIGNED_TEMPLATES, fill_instruction, voice_words
        from unisono.world.speech import synthesize, voice_ids

        rate = {"slow": 0.75, "fast": 1.3}.get(speed or "normal", 1.0)
        voices = voice_ids(engine="espeak", gender=gender) if gender else voice_ids(engine="espeak")
        try:
            utterance = synthesize(text, voices[0], sample_rate=self.sample_rate, speed=rate)
        except UnisonoError as err:
            raise UnisonoError(f"cannot turn the text into phones: {err}") from err
        phones = [p.symbol for p in utterance.phonemes]
        seconds = [p.end - p.start for p in utterance.phonemes]
        described, speaker = voice_words(gender)
        instruction = fill_instruction(ALIGNED_TEMPLATES[0], voice=described, speaker=speaker)
        recipe = self.recipe("tts_aligned")
        total = float(sum(seconds))
        [latent] = self._sample(
            [instruction], [total], steps=steps or recipe.steps,
            cfg=recipe.cfg if cfg is None else cfg, solver=recipe.solver, sway=recipe.sway,
            cfg_interval=recipe.cfg_interval, seed=seed, phones=(phones, seconds, [0] * len(phones)),
        )
        audio = self.codec.decode_latent(latent, num_samples=int(round(total * self.sample_rate)))
        return self._output(audio, instruction, seed, peak=peak)

    # ----- understanding: text answers from the caption stream (UAT masked diffusion) -----

    @torch.no_grad()
    def caption(
        self,
        audio: AudioInput | list[AudioInput],
        *,
        sample_rate: int | None = None,
        steps: int | None = None,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> str | list[str]:
        """Describe audio in a sentence.

        Args:
            audio: a path, numpy array (with `sample_rate`) or tensor; a list gives a list.
            sample_rate: the rate of array inputs.
            steps: unmasking steps K' >= 1 (default: the task's recipe); more than the answer's
                positions (caption_length, or answer_length for questions) are capped to them, since
                a step commits at least one token; 1 is the greedy one-step mode.
            temperature: 0 commits the most likely token; > 0 samples (seeded).
            seed: input i uses seed + i.
        """
        self._require_task("caption")
        from unisono.tasks.understanding import CAPTION_TEMPLATES

        return self._answer(audio, CAPTION_TEMPLATES[0], task="caption", sample_rate=sample_rate,
                            steps=steps, temperature=temperature, seed=seed)

    @torch.no_grad()
    def ask(
        self,
        audio: AudioInput | list[AudioInput],
        question: str,
        *,
        sample_rate: int | None = None,
        steps: int | None = None,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> str | list[str]:
        """Answer a question about audio ("How many times does the bell ring?", "Is the speaker
        male or female?", "What instrument plays?"). Arguments as for `caption`."""
        self._require_task("question")
        if not question.strip():
            raise UnisonoError("empty question: ask something about the audio.")
        return self._answer(audio, question, task="question", sample_rate=sample_rate,
                            steps=steps, temperature=temperature, seed=seed)

    def _answer(
        self, audio: AudioInput | list[AudioInput], request: str, *, task: str,
        sample_rate: int | None, steps: int | None, temperature: float, seed: int,
    ) -> str | list[str]:
        config = self.generator.config
        length = config.answer_tokens(task)
        steps = min(steps or self.recipe(task).steps, length)  # one token a step at most
        encoding = self.text_encoder.encode([request])
        states = tuple(encoding.hidden_states)
        instruction = self.generator.instruction_inputs(states, encoding.mask)
        answers = []
        inputs = audio if isinstance(audio, list) else [audio]
        for index, item in enumerate(inputs):
            latent = self._encode_input(item, sample_rate)[0]
            windows = understanding_windows(latent.shape[1],
                                            int(self.max_seconds * self.frame_rate))
            if len(windows) > 1 and task == "question":
                raise UnisonoError(
                    f"input {index} is {latent.shape[1] / self.frame_rate:.1f} s long, and the "
                    f"model hears at most {self.max_seconds:g} s at a time: a question about a "
                    "longer clip has no one answer. Cut out the part you ask about (captions of "
                    "long clips are written window by window)."
                )
            parts = []
            for start, stop in windows:
                window = latent[:, start:stop].unsqueeze(0)

                def logits(tokens: torch.Tensor, window: torch.Tensor = window) -> torch.Tensor:
                    return self.generator.caption_logits(
                        window, tokens, text_states=states, text_mask=encoding.mask,
                        instruction=instruction,
                    )

                ids = sample_tokens(
                    logits, batch=1, length=length, steps=steps,
                    mask_token=config.caption_mask_token, temperature=temperature,
                    generator=torch.Generator().manual_seed(seed + index),
                )
                parts.append(self.text_encoder.caption_text(ids)[0])
            answers.append(parts[0] if len(parts) == 1 else join_window_captions(
                parts, [(a / self.frame_rate, b / self.frame_rate) for a, b in windows]))
        return answers if isinstance(audio, list) else answers[0]


def understanding_windows(frames: int, max_frames: int) -> list[tuple[int, int]]:
    """[start, stop) latent frames of the fewest equal windows of at most `max_frames` that cover
    `frames` (one window when the clip fits)."""
    if max_frames < 1:
        raise UnisonoError(f"the model's max_seconds gives {max_frames} latent frames; need >= 1.")
    count = max(1, -(-frames // max_frames))
    edges = [round(k * frames / count) for k in range(count + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def join_window_captions(captions: list[str], spans: list[tuple[float, float]]) -> str:
    """One caption per window as one text: "From 0.0 s to 9.5 s: ... From 9.5 s to 19.0 s: ..."."""
    sentences = []
    for caption, (start, stop) in zip(captions, spans, strict=True):
        text = caption.strip().rstrip(".") or "(nothing recognisable)"
        sentences.append(f"From {start:.1f} s to {stop:.1f} s: {text[0].upper()}{text[1:]}.")
    return " ".join(sentences)


def trim_trailing_silence(
    audio: np.ndarray, sample_rate: int, *, threshold_db: float = -50.0, window: float = 0.05
) -> np.ndarray:
    """Cut the trailing part quieter than `threshold_db` (dB RMS per window, relative to full scale)."""
    size = max(1, int(window * sample_rate))
    usable = len(audio) // size * size
    if usable == 0:
        return audio
    energy = np.sqrt(np.mean(audio[:usable].reshape(-1, size) ** 2, axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(energy) > threshold_db)[0]
    end = (loud[-1] + 1) * size if loud.size else size
    return audio[:end]

"""The web UI's page: a gradio Blocks app built around one loaded `Unisono` model.

One tab per task family: Generate (t2a / t2m), Speech (tts, voice cloning, singing), Edit,
Restore (enhance / upsample) and Caption / Ask. A tab or control whose task the model was not
trained for says so instead of offering a button that can only fail. Every button runs through
one gradio queue with one model call at a time (`serving.bound_queue`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import gradio as gr

from unisono.instructions import EDIT_EXAMPLES
from unisono.pipeline import Unisono
from unisono.webui import handlers
from unisono.webui.serving import MODEL_CONCURRENCY_ID, bound_queue

GENERATE_TASKS = {"t2a": "sound (t2a)", "t2m": "music (t2m)", "timed": "events at set times (timed)",
                  "t2as": "speech with sounds (t2as)"}
SPEECH_TASKS = ("tts", "tts_styled", "tts_clone")
EDIT_TASKS = ("edit_add", "edit_remove", "edit_replace", "edit_extract", "edit_restyle",
              "speech_insert", "speech_delete", "speech_rewrite")
UNDERSTAND_TASKS = ("caption", "question")
PROMPT_EXAMPLES = (
    "A dog barks twice while rain falls on a roof",
    "A church bell rings three times",
    "A calm piano melody in C major",
)
MAX_SEED = 99_999


def build_app(model: Unisono, *, queue_size: int = 8) -> gr.Blocks:
    """The gradio app for `model`, queued (one model call at a time, at most `queue_size`
    requests held, running included; more get a "busy, try again" answer).

    Analytics are switched off: the page and the server need no internet.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # Results are files in gradio's cache: those older than an hour are deleted every hour.
    with gr.Blocks(title="Unisono", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(_header(model, queue_size))
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                _generate_tab(model)
            with gr.Tab("Speech", id="speech"):
                _speech_tab(model)
            with gr.Tab("Edit", id="edit"):
                _edit_tab(model)
            with gr.Tab("Restore", id="restore"):
                _restore_tab(model)
            with gr.Tab("Caption / Ask", id="understand"):
                _understand_tab(model)
    bound_queue(demo, queue_size)
    return demo


def _header(model: Unisono, queue_size: int) -> str:
    return (
        "## Unisono\n"
        f"One model, trained for: {', '.join(model.tasks)}. Output at {model.sample_rate} Hz. "
        f"Requests run one at a time; up to {queue_size} are held (running included), more are "
        "asked to try again."
    )


def _missing_note(model: Unisono, wanted: tuple[str, ...] | list[str], what: str) -> gr.Markdown:
    return gr.Markdown(
        f"**{what} is not available:** this model was not trained for "
        f"{' / '.join(wanted)} (it knows {', '.join(model.tasks)}). Start the server with a "
        "model trained for it: `unisono serve --model DIR`.",
        elem_classes=["unisono-missing"],
    )


def _bind(handler: Callable, model: Unisono) -> Callable:
    return functools.partial(handler, model)


def _click(button: gr.Button, handler: Callable, model: Unisono, inputs: list, outputs: list,
           name: str) -> None:
    # One concurrency group for every tab: the model runs one request at a time.
    button.click(_bind(handler, model), inputs=inputs, outputs=outputs, api_name=name,
                 concurrency_id=MODEL_CONCURRENCY_ID, concurrency_limit=1)


def _sampling(model: Unisono, task: str, prefix: str, *, guidance: bool = True
              ) -> list[gr.Slider]:
    """Steps (and guidance) sliders defaulting to the model's recipe for the task, and a seed
    slider."""
    recipe = model.recipe(task)
    with gr.Row():
        controls = [gr.Slider(1, 100, value=recipe.steps, step=1, label="Steps",
                              elem_id=f"{prefix}-steps")]
        if guidance:
            controls.append(gr.Slider(1.0, max(10.0, recipe.cfg), value=recipe.cfg, step=0.1,
                                      label="Guidance (CFG, 1 = none)", elem_id=f"{prefix}-cfg"))
        controls.append(gr.Slider(0, MAX_SEED, value=0, step=1, label="Seed",
                                  elem_id=f"{prefix}-seed"))
    return controls


def _duration_slider(model: Unisono, prefix: str) -> gr.Slider:
    return gr.Slider(0.0, model.generator.config.max_duration, value=0.0, step=0.1,
                     label="Duration (s)", info="0: the model decides", elem_id=f"{prefix}-duration")


def _outputs(prefix: str) -> list[gr.components.Component]:
    # The browser's own <audio> player (src = the served WAV); the spectrogram shows the signal.
    audio = gr.Audio(label="Output", type="numpy", format="wav", interactive=False,
                     waveform_options=gr.WaveformOptions(show_recording_waveform=False),
                     buttons=["download"], elem_id=f"{prefix}-audio")
    image = gr.Image(label="Log-mel spectrogram", type="numpy", format="png", interactive=False,
                     buttons=["download", "fullscreen"], elem_id=f"{prefix}-spectrogram")
    used = gr.Textbox(label="Instruction used", interactive=False, elem_id=f"{prefix}-instruction")
    return [audio, image, used]


def _audio_input(label: str, prefix: str) -> gr.Audio:
    return gr.Audio(label=label, sources=["upload", "microphone"], type="filepath",
                    elem_id=f"{prefix}-input")


# ----- tabs -----


def _generate_tab(model: Unisono) -> None:
    tasks = [task for task in GENERATE_TASKS if task in model.tasks]
    if not tasks:
        _missing_note(model, list(GENERATE_TASKS), "Text-to-audio generation")
        return
    with gr.Row():
        with gr.Column():
            prompt = gr.Textbox(label="Prompt", lines=2, placeholder="What should it sound like?",
                                elem_id="generate-prompt")
            task = gr.Radio([(GENERATE_TASKS[t], t) for t in tasks], value=tasks[0], label="Task",
                            elem_id="generate-task")
            duration = _duration_slider(model, "generate")
            sampling = _sampling(model, tasks[0], "generate")
            button = gr.Button("Generate", variant="primary", elem_id="generate-button")
            gr.Examples([[p] for p in PROMPT_EXAMPLES], inputs=[prompt])
        with gr.Column():
            outputs = _outputs("generate")
    _click(button, handlers.generate, model, [prompt, task, duration, *sampling], outputs,
           "generate")


def _speech_tab(model: Unisono) -> None:
    if not any(task in model.tasks for task in SPEECH_TASKS):
        _missing_note(model, SPEECH_TASKS, "Speech")
    else:
        _tts_section(model)
    if "svs" in model.tasks:
        gr.Markdown("### Singing from a score")
        _singing_section(model)
    else:
        _missing_note(model, ["svs"], "Singing")


def _tts_section(model: Unisono) -> None:
    task = next(t for t in SPEECH_TASKS if t in model.tasks)
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text to speak", lines=2, elem_id="speech-text")
            with gr.Row():
                gender = gr.Radio(list(handlers.GENDER_CHOICES), value="any", label="Voice",
                                  elem_id="speech-gender")
                styled = "tts_styled" in model.tasks
                speed = gr.Radio(list(handlers.SPEED_CHOICES), value="normal", label="Speed",
                                 visible=styled, elem_id="speech-speed")
            if not styled:
                gr.Markdown("Speed control needs a model trained for tts_styled.")
            if "tts_clone" in model.tasks:
                voice = _audio_input("Voice to clone (optional: upload or record)", "speech-voice")
                voice_text = gr.Textbox(label="What the voice recording says",
                                        elem_id="speech-voice-text")
            else:
                voice = gr.Audio(visible=False, type="filepath")
                voice_text = gr.Textbox(visible=False)
                gr.Markdown("Voice cloning needs a model trained for tts_clone.")
            duration = _duration_slider(model, "speech")
            sampling = _sampling(model, task, "speech")
            button = gr.Button("Speak", variant="primary", elem_id="speech-button")
        with gr.Column():
            outputs = _outputs("speech")
    _click(button, handlers.speak, model,
           [text, voice, voice_text, gender, speed, duration, *sampling], outputs, "speak")


def _singing_section(model: Unisono) -> None:
    with gr.Row():
        with gr.Column():
            score = gr.File(label='Score (JSON: {"key": "D", "notes": [{"pitch": 62, "onset": 0.0, '
                                  '"offset": 0.5, "lyric": "twin-"}, ...]})',
                            file_types=[".json"], type="filepath", elem_id="sing-score")
            gender = gr.Radio(["female", "male"], value="female", label="Voice",
                              elem_id="sing-gender")
            sampling = _sampling(model, "svs", "sing")
            button = gr.Button("Sing", variant="primary", elem_id="sing-button")
        with gr.Column():
            outputs = _outputs("sing")
    _click(button, handlers.sing, model, [score, gender, *sampling], outputs, "sing")


def _edit_tab(model: Unisono) -> None:
    trained = [task for task in EDIT_TASKS if task in model.tasks]
    if not trained:
        _missing_note(model, ["edit_*", "speech_*"], "Editing")
        return
    with gr.Row():
        with gr.Column():
            audio = _audio_input("Audio to edit (upload or record)", "edit")
            instruction = gr.Textbox(label="Instruction", placeholder=EDIT_EXAMPLES[0],
                                     elem_id="edit-instruction")
            gr.Markdown(f"The instruction picks the edit. This model can: {', '.join(trained)}.")
            sampling = _sampling(model, trained[0], "edit")
            button = gr.Button("Edit", variant="primary", elem_id="edit-button")
            gr.Examples([[e] for e in EDIT_EXAMPLES], inputs=[instruction])
        with gr.Column():
            outputs = _outputs("edit")
    _click(button, handlers.edit, model, [audio, instruction, *sampling], outputs, "edit")


def _restore_tab(model: Unisono) -> None:
    modes = [label for label, (task, _) in handlers.RESTORE_MODES.items() if task in model.tasks]
    if not modes:
        _missing_note(model, ["se", "sr"], "Restoration")
        return
    with gr.Row():
        with gr.Column():
            audio = _audio_input("Audio to restore (upload or record)", "restore")
            mode = gr.Radio(modes, value=modes[0], label="Restoration", elem_id="restore-mode")
            first_task = handlers.RESTORE_MODES[modes[0]][0]
            sampling = _sampling(model, first_task, "restore", guidance=False)
            button = gr.Button("Restore", variant="primary", elem_id="restore-button")
        with gr.Column():
            outputs = _outputs("restore")
    _click(button, handlers.restore, model, [audio, mode, *sampling], outputs, "restore")


def _understand_tab(model: Unisono) -> None:
    if not any(task in model.tasks for task in UNDERSTAND_TASKS):
        _missing_note(model, UNDERSTAND_TASKS, "Captioning and questions")
        return
    longest = model.generator.config.caption_length
    task = "caption" if "caption" in model.tasks else "question"
    with gr.Row():
        with gr.Column():
            audio = _audio_input("Audio (upload or record)", "understand")
            if "question" in model.tasks:
                question = gr.Textbox(label="Question (empty: describe the audio)",
                                      placeholder="How many times does the bell ring?",
                                      elem_id="understand-question")
            else:
                question = gr.Textbox(visible=False)
                gr.Markdown("Questions need a model trained for the question task; "
                            "it will describe the audio.")
            with gr.Row():
                steps = gr.Slider(1, longest, value=min(model.recipe(task).steps, longest),
                                  step=1, label="Unmasking steps", elem_id="understand-steps")
                temperature = gr.Slider(0.0, 1.5, value=0.0, step=0.05,
                                        label="Temperature (0: most likely)",
                                        elem_id="understand-temperature")
                seed = gr.Slider(0, MAX_SEED, value=0, step=1, label="Seed",
                                 elem_id="understand-seed")
            button = gr.Button("Describe / answer", variant="primary", elem_id="understand-button")
        with gr.Column():
            answer = gr.Textbox(label="Answer", lines=3, interactive=False,
                                elem_id="understand-answer")
    _click(button, handlers.understand, model, [audio, question, steps, temperature, seed],
           [answer], "understand")

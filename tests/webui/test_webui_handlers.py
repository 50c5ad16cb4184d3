"""The web UI's handlers on a tiny random model: outputs match the API, bad input is a clear
`gradio.Error`, and the page offers only what the model was trained for."""

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from unisono.webui import build_app, handlers


def _tone(path, seconds: float, rate: int, frequency: float = 440.0, level: float = 0.3):
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32), rate)
    return str(path)


def test_to_int16_scales_and_clips() -> None:
    pcm = handlers.to_int16(np.array([0.0, 0.5, -0.5, 1.0, 1.7, -3.0], dtype=np.float32))
    assert pcm.dtype == np.int16
    assert pcm.tolist() == [0, 16384, -16384, 32767, 32767, -32767]


def test_spectrogram_puts_a_high_tone_above_a_low_one(tmp_path) -> None:
    rate = 16000
    t = np.arange(rate) / rate

    def brightest_row(frequency: float) -> int:
        image = handlers.spectrogram_image(np.sin(2 * np.pi * frequency * t).astype(np.float32),
                                           rate)
        plot = image[:, : int(image.shape[1] * 0.7)].astype(np.float32)  # no colour bar
        yellow = plot[..., 0] + plot[..., 1] - plot[..., 2]  # magma's top is yellow
        return int(np.argmax(yellow.mean(axis=1)))

    image = handlers.spectrogram_image(np.zeros(rate, dtype=np.float32), rate)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    low, high = brightest_row(300.0), brightest_row(5000.0)
    assert high < low - 50  # rows count downwards: low mel bands at the bottom


def test_generate_returns_the_apis_audio_as_pcm_with_spectrogram(webui_model) -> None:
    (rate, pcm), image, used = handlers.generate(webui_model, "a dog barks", "t2a", 0.75, 3, 2.0,
                                                 7)
    direct = webui_model.generate("a dog barks", duration=0.75, steps=3, cfg=2.0, seed=7)
    assert rate == 16000 and pcm.dtype == np.int16 and len(pcm) == 12000
    np.testing.assert_array_equal(pcm, handlers.to_int16(direct.audio))
    assert image.shape[2] == 3 and image.std() > 0
    assert used == "[t2a, seed 7] a dog barks"
    # Duration 0 lets the model decide: the duration predictor's length.
    (_, auto), _, _ = handlers.generate(webui_model, "a bell", "t2a", 0.0, 1, 1.0, 0)
    predicted = webui_model.predict_duration(["a bell"])[0]
    assert abs(len(auto) - predicted * 16000) <= 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: handlers.generate(m, "  ", "t2a", 1.0, 2, 1.0, 0), "empty prompt"),
        (lambda m: handlers.generate(m, "a piano", "t2m", 1.0, 2, 1.0, 0),
         "not trained for 't2m'"),
        (lambda m: handlers.generate(m, "a piano", "t2a", 99.0, 2, 1.0, 0), "outside"),
        (lambda m: handlers.edit(m, None, "Remove the hum", 2, 1.0, 0), "no input audio"),
        (lambda m: handlers.restore(m, None, next(iter(handlers.RESTORE_MODES)), 2, 0),
         "no input audio"),
        (lambda m: handlers.understand(m, None, "", 2, 0.0, 0), "no input audio"),
        (lambda m: handlers.speak(m, "", None, "", "any", "normal", 0.0, 2, 1.0, 0),
         "empty text"),
        (lambda m: handlers.sing(m, None, "female", 2, 1.0, 0), "no score"),
        (lambda m: handlers.restore(m, "x.wav", "louder", 2, 0), "unknown restore mode"),
    ],
)
def test_bad_input_is_a_gradio_error_with_the_unisono_message(webui_model, call, message) -> None:
    with pytest.raises(gr.Error, match=message) as caught:
        call(webui_model)
    assert caught.value.title == "Cannot do that"


def test_bad_files_name_the_problem(webui_model, tmp_path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    long = _tone(tmp_path / "long.wav", 31.0, 8000)
    speech = _tone(tmp_path / "voice.wav", 1.0, 16000)
    cases = [
        (lambda: handlers.edit(webui_model, str(silent), "Remove the hum", 2, 1.0, 0), "silent"),
        (lambda: handlers.edit(webui_model, str(broken), "Remove the hum", 2, 1.0, 0),
         "cannot read audio"),
        (lambda: handlers.edit(webui_model, long, "Remove the hum", 2, 1.0, 0), "too long"),
        (lambda: handlers.edit(webui_model, speech, "Make it nicer", 2, 1.0, 0),
         "cannot tell which edit"),
        (lambda: handlers.edit(webui_model, speech, "Extract the piano", 2, 1.0, 0),
         "not trained for 'edit_extract'"),
        (lambda: handlers.speak(webui_model, "hello there", speech, " ", "any", "normal", 0.0, 2,
                                1.0, 0), "needs its transcript"),
    ]
    for call, message in cases:
        with pytest.raises(gr.Error, match=message):
            call()


def test_edit_and_restore_keep_the_duration_and_name_the_task(webui_model, tmp_path) -> None:
    clip = _tone(tmp_path / "in.wav", 1.5, 22050)
    (rate, pcm), _, used = handlers.edit(webui_model, clip, "Remove the hum", 2, 2.0, 3)
    assert rate == 16000 and len(pcm) == 24000
    assert used == "[edit_remove, seed 3] Remove the hum"
    mode = next(label for label, (task, _) in handlers.RESTORE_MODES.items() if task == "sr")
    (_, restored), _, used = handlers.restore(webui_model, clip, mode, 2, 5)
    samples, source_rate = sf.read(clip, dtype="float32")
    direct = webui_model.upsample(samples, sample_rate=source_rate, steps=2, seed=5)
    np.testing.assert_array_equal(restored, handlers.to_int16(direct.audio))
    assert used.startswith("[sr, seed 5] Restore the high frequencies")


def test_speech_with_and_without_a_voice(webui_model, tmp_path) -> None:
    (_, plain), _, used = handlers.speak(webui_model, "Good morning.", None, "", "female",
                                         "normal", 1.0, 2, 2.0, 0)
    assert len(plain) == 16000 and used.startswith("[tts, seed 0]") and "female" in used
    voice = _tone(tmp_path / "voice.wav", 0.8, 16000)
    (_, cloned), _, used = handlers.speak(webui_model, "Good morning.", voice, "Hello there.",
                                          "any", "normal", 1.0, 2, 2.0, 0)
    assert len(cloned) == 16000 and used.startswith("[tts_clone, seed 0]")
    assert "Hello there. Good morning." in used


def test_understanding_captions_or_answers(webui_model, tmp_path) -> None:
    clip = _tone(tmp_path / "bell.wav", 1.0, 16000)
    samples, rate = sf.read(clip, dtype="float32")
    caption = handlers.understand(webui_model, clip, "  ", 3, 0.0, 0)
    assert caption == webui_model.caption(samples, sample_rate=rate, steps=3)
    answer = handlers.understand(webui_model, clip, "What sound is this?", 3, 0.0, 0)
    assert answer == webui_model.ask(samples, "What sound is this?", sample_rate=rate, steps=3)


def _page(demo) -> tuple[set[str], str]:
    config = demo.get_config_file()
    names = {dep["api_name"] for dep in config["dependencies"]  # examples load outside the queue
             if dep.get("api_name") and not dep["api_name"].startswith("load_example")}
    texts = " ".join(str(c["props"].get("value", "")) for c in config["components"]
                     if c["type"] == "markdown")
    return names, texts


def test_the_page_offers_only_trained_tasks(webui_model) -> None:
    names, notes = _page(build_app(webui_model, queue_size=3))
    assert names == {"generate", "speak", "edit", "restore", "understand"}
    assert "Singing is not available" in notes and "not trained for svs" in notes
    assert "up to 3 are held" in notes
    webui_model.tasks, saved = ["t2a"], webui_model.tasks
    try:
        names, notes = _page(build_app(webui_model))
    finally:
        webui_model.tasks = saved
    assert names == {"generate"}
    for family in ("Speech", "Editing", "Restoration", "Captioning and questions"):
        assert f"{family} is not available" in notes


def test_sliders_start_from_the_models_own_recipe(webui_model) -> None:
    from unisono.tasks import get_task

    def slider(demo, elem_id: str) -> dict:
        return next(c["props"] for c in demo.get_config_file()["components"]
                    if c["props"].get("elem_id") == elem_id)

    task_recipe = get_task("t2a").recipe
    props = slider(build_app(webui_model), "generate-cfg")
    assert props["value"] == task_recipe.cfg
    saved = dict(webui_model.recipes)
    webui_model.recipes["t2a"] = task_recipe.replace({"cfg": 12, "steps": 40}, where="test")
    try:
        demo = build_app(webui_model)
    finally:
        webui_model.recipes = saved
    assert slider(demo, "generate-cfg")["value"] == 12.0
    assert slider(demo, "generate-cfg")["maximum"] >= 12.0  # the range holds the model's scale
    assert slider(demo, "generate-steps")["value"] == 40

"""The API's transformation and speech methods on a tiny random model: lengths, routing, errors."""

import numpy as np
import pytest
import torch

from unisono.cli import main
from unisono.errors import UnisonoError
from unisono.instructions import edit_task_for, tts_instruction
from unisono.pipeline import Unisono

TASKS = ["t2a", "timed", "t2as", "edit_add", "edit_remove", "edit_replace", "edit_extract", "se",
         "sr", "tts", "tts_clone"]


@pytest.fixture(scope="module")
def model_dir(make_model_folder):
    return make_model_folder(TASKS)


@pytest.fixture(scope="module")
def model(model_dir) -> Unisono:
    return Unisono.from_pretrained(model_dir)


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("instruction", "task"),
    [("Add a dog barking at 2 s", "edit_add"), ("Remove the siren", "edit_remove"),
     ("Replace the bell with a whistle", "edit_replace"), ("Extract the piano", "edit_extract"),
     ("Isolate the drums", "edit_extract"), ("Play this on a violin", "edit_restyle"),
     ("Remove the speech", "speech_delete"), ("Get rid of the hum", "edit_remove")],
)
def test_edit_instructions_route_to_their_task(instruction, task) -> None:
    assert edit_task_for(instruction) == task


def test_unroutable_instruction_and_untrained_task_are_clear_errors(model) -> None:
    with pytest.raises(UnisonoError, match="cannot tell which edit"):
        edit_task_for("Make it nicer")
    with pytest.raises(UnisonoError, match="not trained for 'edit_restyle'"):
        model.edit(_tone(1.0, 16000), "Play this on a violin", sample_rate=16000)
    with pytest.raises(UnisonoError, match="needs its sample_rate"):
        model.enhance(_tone(1.0, 16000))


def test_timed_and_t2as_generate_from_a_prompt(model) -> None:
    for task, prompt in (("timed", "A bell from 0.2 s to 0.6 s, then a whistle"),
                         ("t2as", 'A woman says "hello". In the background: rain.')):
        out = model.generate(prompt, task=task, duration=1.25, steps=2, seed=0)
        assert out.audio.shape == (20000,) and np.isfinite(out.audio).all()
    with pytest.raises(UnisonoError, match="not trained for 't2m'"):
        model.generate("A piano", task="t2m")


def test_transformations_keep_the_input_length_at_any_rate(model, tmp_path) -> None:
    edited = model.edit(_tone(1.5, 16000), "Add a bell at 0.5 s", sample_rate=16000, steps=2)
    assert len(edited.audio) == 24000 and np.isfinite(edited.audio).all()
    # A 22.05 kHz tensor input comes back at 16 kHz with the same duration.
    enhanced = model.enhance(torch.from_numpy(_tone(1.0, 22050)), sample_rate=22050, steps=2)
    assert enhanced.sample_rate == 16000 and len(enhanced.audio) == 16000
    again = model.enhance(torch.from_numpy(_tone(1.0, 22050)), sample_rate=22050, steps=2)
    assert np.array_equal(enhanced.audio, again.audio)
    path = tmp_path / "in.wav"
    edited.save(path)
    assert main(["upsample", str(path), "-o", str(tmp_path / "up.wav"), "--model",
                 str(model.__dict__.get("_folder", "")) or "x", "--steps", "1"]) == 2  # bad model


def test_cli_edit_enhance_and_tts(model_dir, tmp_path) -> None:
    import soundfile as sf

    source = tmp_path / "in.wav"
    sf.write(source, _tone(1.0, 16000), 16000)
    for command in (["edit", str(source), "Remove the hum"], ["enhance", str(source)],
                    ["upsample", str(source)]):
        out = tmp_path / f"{command[0]}.wav"
        assert main([*command, "-o", str(out), "--model", str(model_dir), "--steps", "1"]) == 0
        assert sf.info(out).frames == 16000
    out = tmp_path / "speech.wav"
    assert main(["tts", "Hello there", "--gender", "female", "--duration", "0.8", "-o", str(out),
                 "--model", str(model_dir), "--steps", "1"]) == 0
    assert sf.info(out).frames == 12800


def test_edits_restoration_and_speech_share_the_peak_rule(model, monkeypatch) -> None:
    from unisono.audio import DEFAULT_PEAK, limit_peak
    from unisono.models.codec import Codec

    decode = Codec.decode_latent  # 10x louder: the tiny model's outputs go above full scale
    monkeypatch.setattr(Codec, "decode_latent",
                        lambda self, latent, **options: 10.0 * decode(self, latent, **options))
    tone = _tone(1.0, 16000)
    calls = {
        "edit": lambda **peak: model.edit(tone, "Remove the hum", sample_rate=16000, steps=1,
                                          **peak),
        "enhance": lambda **peak: model.enhance(tone, sample_rate=16000, steps=1, **peak),
        "upsample": lambda **peak: model.upsample(tone, sample_rate=16000, steps=1, **peak),
        "tts": lambda **peak: model.tts("Hello there", duration=0.8, steps=1, **peak),
    }
    for name, call in calls.items():
        raw, limited = call(peak=None).audio, call().audio
        assert np.abs(raw).max() > 1.0, name
        assert np.abs(limited).max() <= DEFAULT_PEAK, name
        np.testing.assert_array_equal(limited, limit_peak(raw), err_msg=name)


@pytest.mark.parametrize("command", [["generate", "a bell"], ["tts", "Hi"], ["sing", "s.json"],
                                     ["edit", "in.wav", "Remove the hum"], ["enhance", "in.wav"],
                                     ["upsample", "in.wav"]])
def test_every_audio_command_takes_the_peak_flags(command) -> None:
    from unisono.audio import DEFAULT_PEAK
    from unisono.cli import build_parser

    parser = build_parser()
    assert parser.parse_args([*command, "-o", "o.wav"]).peak == DEFAULT_PEAK
    assert parser.parse_args([*command, "-o", "o.wav", "--peak", "0.5"]).peak == 0.5
    assert parser.parse_args([*command, "-o", "o.wav", "--no-peak-limit"]).peak is None


def test_voice_cloning_returns_only_the_continuation(model) -> None:
    result = model.tts("good morning", voice=_tone(0.6, 16000), voice_sample_rate=16000,
                       duration=1.0, steps=1)
    assert len(result.audio) == 16000
    assert result.prompt == 'Continue in this voice: "good morning"'
    assert tts_instruction("hi  there", gender="male") == 'A male voice saying: "hi there"'
    assert tts_instruction("hi", gender="female", speed="fast") == 'A fast female voice says: "hi"'
    assert tts_instruction("go on", clone=True, reference_text="I said") == (
        'Continue in this voice: "I said go on"')
    with pytest.raises(UnisonoError, match="gender"):
        tts_instruction("hi", gender="robot")


def test_sing_follows_the_score_length_and_rejects_bad_scores(make_model_folder, tmp_path) -> None:
    import json

    from unisono.tasks.symbols import SYMBOLS

    folder = make_model_folder(["svs"], seed=1, content_vocab=len(SYMBOLS))
    model = Unisono.from_pretrained(folder)
    score = {"key": "D", "notes": [
        {"pitch": 62, "onset": 0.1, "offset": 0.6, "lyric": "twin-"},
        {"pitch": 69, "onset": 0.6, "offset": 1.2, "lyric": "kle"},
    ]}
    path = tmp_path / "score.json"
    path.write_text(json.dumps(score))
    a = model.sing(path, steps=2, seed=3)
    b = model.sing(score, steps=2, seed=3)
    assert np.array_equal(a.audio, b.audio)
    assert abs(len(a.audio) - 1.2 * 16000) <= 320 + 1
    assert a.prompt == "A female voice sings in D."
    with pytest.raises(UnisonoError, match="no notes"):
        model.sing({"notes": []})
    with pytest.raises(UnisonoError, match="needs pitch"):
        model.sing({"notes": [{"pitch": 60}]})
    out = tmp_path / "sung.wav"
    assert main(["sing", str(path), "-o", str(out), "--model", str(folder), "--steps", "1"]) == 0


def test_aligned_tts_voices_espeak_phones_for_their_duration(make_model_folder) -> None:
    from unisono.tasks.symbols import SYMBOLS
    from unisono.world.speech import synthesize, voice_ids

    folder = make_model_folder(["tts_aligned"], seed=2, content_vocab=len(SYMBOLS), patch_size=2)
    model = Unisono.from_pretrained(folder)
    speech = model.tts("hello there", gender="male", steps=2, seed=1)
    reference = synthesize("hello there", voice_ids(engine="espeak", gender="male")[0],
                           sample_rate=16000)
    # The output lasts exactly as long as the phones espeak-ng timed.
    expected = sum(p.end - p.start for p in reference.phonemes)
    assert abs(len(speech.audio) / 16000 - expected) <= 1 / 16000 + 1e-9
    assert speech.prompt == "A male voice speaking."
    slow = model.tts("hello there", gender="male", speed="slow", steps=2, seed=1)
    assert len(slow.audio) > 1.2 * len(speech.audio)
    with pytest.raises(UnisonoError, match="phones"):
        model.tts("", gender="male", steps=2)

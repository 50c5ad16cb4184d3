"""`unisono demo`: the built-in examples, the measured figures and the page, on a tiny model."""

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from unisono.demo import build_examples, measure, run_demo
from unisono.errors import UnisonoError
from unisono.instructions import edit_task_for
from unisono.tasks import get_task

RATE = 16000


def test_demo_writes_a_page_whose_files_exist(demo_model_dir, demo_tasks, run_cli, tmp_path,
                                             capsys) -> None:
    out = tmp_path / "demo"
    assert run_cli(["demo", "--model", str(demo_model_dir), "--out", str(out), "--steps", "2"]) == 0
    page = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert page == (out / "index.html").resolve()
    text = page.read_text()
    links = re.findall(r'(?:src)="([^"]+)"', text)
    assert links and all(not Path(link).is_absolute() for link in links)
    assert all((out / link).is_file() for link in links)
    # every task gets a section; audio tasks an output player, text tasks an answer
    assert text.count("<section>") == len(build_examples(demo_tasks, sample_rate=RATE)) == 16
    assert text.count("<audio controls") == len(list(out.glob("*.wav")))
    assert len(re.findall(r"<q class=answer>", text)) == 2
    for name in ("t2a_out", "edit_remove_out", "se_out", "sr_out", "tts_clone_out", "svs_out"):
        assert sf.info(out / f"{name}.wav").samplerate == RATE
    # inputs keep their length through transformations
    assert sf.info(out / "se_out.wav").frames == sf.info(out / "se_in0.wav").frames
    assert "PESQ input" in text and "LSD input" in text and "event window RMS" in text


def test_examples_are_seeded_and_follow_the_model_tasks() -> None:
    first = build_examples(["t2a", "se", "edit_remove"], sample_rate=RATE, seed=3)
    again = build_examples(["t2a", "se", "edit_remove"], sample_rate=RATE, seed=3)
    other = build_examples(["se", "edit_remove"], sample_rate=RATE, seed=4)
    assert [e.task for e in first] == ["t2a", "edit_remove", "se"]
    for a, b in zip(first, again, strict=True):
        assert a.inputs.keys() == b.inputs.keys()
        assert all(np.array_equal(a.inputs[k], b.inputs[k]) for k in a.inputs)
    assert not np.array_equal(first[2].inputs["noisy input"], other[1].inputs["noisy input"])
    assert build_examples(["speech_delete"], sample_rate=RATE) == []


def test_figures_against_the_reference_itself() -> None:
    examples = {e.task: e for e in build_examples(["sr", "se", "edit_remove"], sample_rate=RATE)}
    enhance = examples["se"]
    noisy_pesq, clean_pesq = (float(v) for v in re.findall(
        r"[\d.]+", measure(enhance, enhance.reference, RATE)["PESQ input → output"]))
    assert clean_pesq > 4.5 > 3.0 > noisy_pesq  # wide-band PESQ tops out at 4.64
    upsample = examples["sr"]
    figures = measure(upsample, upsample.reference, RATE)
    before, after = re.findall(r"[\d.]+", figures["LSD input → output"])[:2]
    assert float(after) == 0.0 and float(before) > 1.0  # perfect output; the low-pass costs
    removal = examples["edit_remove"]
    levels = [float(v) for v in re.findall(r"-?[\d.]+(?= dB)",
                                            measure(removal, removal.reference, RATE)
                                            ["event window RMS"])]
    assert levels[1] == levels[2] and levels[0] > levels[1] + 6  # the siren is loud in the input
    assert measure(removal, np.zeros(RATE, np.float32), RATE)["output duration"] == "1.00 s"
    restyle = build_examples(["edit_restyle"], sample_rate=RATE)[0]
    before, after = (float(v) for v in re.findall(
        r"[\d.]+", measure(restyle, restyle.reference, RATE)
        ["LSD to the phrase on the new instrument"]))
    assert after == 0.0 and before > 1.0  # piano and violin differ; the reference is itself


def test_edit_examples_route_to_the_task_they_show(demo_tasks) -> None:
    for example in build_examples(demo_tasks, sample_rate=RATE):
        if get_task(example.task).family == "editing":
            assert edit_task_for(example.instruction) == example.task, example.instruction


def test_demo_errors(demo_model_dir, make_model_folder, tmp_path) -> None:
    with pytest.raises(UnisonoError, match="steps"):
        run_demo(demo_model_dir, tmp_path / "x", steps=0, progress=False)
    with pytest.raises(UnisonoError, match="none of the demo's tasks"):
        run_demo(make_model_folder(["speech_delete"]), tmp_path / "y", progress=False)
    with pytest.raises(UnisonoError, match="not a Unisono model folder"):
        run_demo(tmp_path, tmp_path / "z", progress=False)

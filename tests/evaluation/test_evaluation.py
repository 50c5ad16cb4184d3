"""`unisono eval` on a tiny random model and a tiny rendered world test split: every cell a
number or a reason, meaningful ground-truth rows, resumption, errors."""

from __future__ import annotations

import argparse
import json
import math
import struct
import zlib

import numpy as np
import pytest
from eval_fixtures import FAST_TASKS, FEMALE_PROBABILITY, fake_reference_models

from unisono.audio import load_audio, save_audio
from unisono.cli import evaluate as eval_cli
from unisono.data.clips import pool_from_manifests
from unisono.data.manifest import read_manifest
from unisono.errors import UnisonoError
from unisono.evaluation import (
    CODEC_ROW,
    INPUT_ROW,
    MODEL_ROW,
    TRUTH_ROW,
    evaluate_task,
    task_keys,
)
from unisono.evaluation.examples import example_rng


@pytest.fixture(scope="module")
def reports(eval_model, world_manifest, tmp_path_factory):
    references = fake_reference_models()
    root = tmp_path_factory.mktemp("eval")
    return root, {task: evaluate_task(task, model=eval_model, manifest=world_manifest,
                                      out=root / task, n=2, steps=2, references=references)
                  for task in FAST_TASKS}


def _is_cell(value) -> bool:
    return (isinstance(value, float) and math.isfinite(value)) or (
        isinstance(value, str) and value.startswith("unavailable: ") and len(value) > 14)


def test_every_cell_is_a_number_or_a_reason(reports) -> None:
    root, by_task = reports
    for task, report in by_task.items():
        saved = json.loads((root / task / "report.json").read_text())
        assert saved["rows"] == report["rows"]
        assert saved["examples"] == 2, (task, saved.get("error"))
        expected_rows = [MODEL_ROW, TRUTH_ROW]
        expected_rows += [] if task == "question" else [CODEC_ROW]
        expected_rows += [INPUT_ROW] if task in ("edit_remove", "sr") else []
        assert list(saved["rows"]) == expected_rows
        for row, values in saved["rows"].items():
            assert list(values) == task_keys(task)
            assert all(_is_cell(v) for v in values.values()), (task, row, values)
        assert "| model |" in (root / task / "report.md").read_text()
    # Numbers where the stand-in models and packages make them computable.
    assert isinstance(by_task["t2a"]["rows"][MODEL_ROW]["fd"], float)
    assert isinstance(by_task["sr"]["rows"][MODEL_ROW]["lsd"], float)
    assert by_task["t2a"]["rows"][MODEL_ROW]["clap_score"] == (
        "unavailable: no contrastive embedder in these tests")


def test_ground_truth_rows_are_meaningful(reports, world_manifest) -> None:
    _, by_task = reports
    # Timed composition places events on silence at their stated onsets: the detector finds
    # every onset of the real target exactly (0.1 s grid, 10 ms frames).
    assert by_task["timed"]["rows"][TRUTH_ROW]["onset_error_s"] == pytest.approx(0.0, abs=0.011)
    # A transcriber that hears nothing deletes every word: WER = CER = 1.
    clone_truth = by_task["tts_clone"]["rows"][TRUTH_ROW]
    assert clone_truth["wer"] == 1.0 and clone_truth["cer"] == 1.0
    # The stand-in tagger always answers "female": gender accuracy of the real clips is the
    # share of women among the examples' speakers.
    genders = {entry.id: entry.gender for entry in read_manifest(world_manifest)}
    speakers = [genders[e["clip"]] for e in by_task["tts_clone"]["per_example"]]
    assert FEMALE_PROBABILITY > 0.5
    assert clone_truth["gender_accuracy"] == pytest.approx(speakers.count("female") / 2)
    # Comparing a target with itself is not reported; the codec round trip is.
    assert by_task["sr"]["rows"][TRUTH_ROW]["lsd"].startswith("unavailable: it would compare")
    assert by_task["sr"]["rows"][CODEC_ROW]["lsd"] > 0.0
    assert by_task["question"]["rows"][TRUTH_ROW]["accuracy"].startswith("unavailable: ")
    # The duration predictor is a property of the model only.
    assert isinstance(by_task["t2a"]["rows"][MODEL_ROW]["duration_error_s"], float)
    assert by_task["t2a"]["rows"][TRUTH_ROW]["duration_error_s"].startswith("unavailable: ")


def test_per_example_scores_average_to_the_rows(reports) -> None:
    _, by_task = reports
    # Metrics that are a mean over clips: their per-example values average to the row's cell.
    checked = 0
    for task, column in [("sr", "lsd"), ("sr", "log_mel_l1"), ("edit_remove", "si_sdr"),
                         ("question", "accuracy")]:
        report = by_task[task]
        for row, value in report["rows"].items():
            if not isinstance(value[column], float):
                continue
            per_example = [e["scores"][row][column] for e in report["per_example"]]
            assert len(per_example) == 2
            assert np.mean(per_example) == pytest.approx(value[column], rel=1e-6), (task, row)
            checked += 1
    assert checked >= 7  # model, codec and input rows of sr and edit_remove; the model's answers
    # Oracle checks have one value per example too (None where the example had nothing to check).
    for task, column in [("t2a", "class_accuracy"), ("edit_remove", "event_absence")]:
        values = [e["scores"]["model"][column] for e in by_task[task]["per_example"]]
        assert len(values) == 2 and all(v is None or 0.0 <= v <= 1.0 for v in values), task
    # FD compares sets of clips: no per-example value.
    assert all("fd" not in scores for e in by_task["t2a"]["per_example"]
               for scores in e["scores"].values())
    # WER keeps what the transcriber heard (the stand-in hears nothing) beside the words due.
    for example in by_task["tts_clone"]["per_example"]:
        assert example["transcript"] and set(example["heard"].values()) == {""}
        assert example["scores"][TRUTH_ROW]["wer"] == 1.0


def test_input_row_of_remove_is_the_closed_form_si_sdr(reports, eval_model, world_manifest
                                                       ) -> None:
    from unisono.tasks.editing import edit_mixture

    _, by_task = reports
    pool = pool_from_manifests([world_manifest], sample_rate=eval_model.sample_rate,
                               max_seconds=10.0)
    values = []
    for index in range(2):
        mixture, _ = edit_mixture("edit_remove", pool, example_rng(0, "edit_remove", index))
        background = mixture.mix("background").astype(np.float64)
        source = mixture.mix("background", "event").astype(np.float64)
        background -= background.mean()
        source -= source.mean()
        projection = (source @ background) / (background @ background) * background
        values.append(10 * np.log10(projection @ projection
                                    / ((source - projection) @ (source - projection))))
    assert by_task["edit_remove"]["rows"][INPUT_ROW]["si_sdr"] == pytest.approx(
        float(np.mean(values)), abs=1e-3)


def test_spectrograms_are_valid_pngs(reports) -> None:
    root, by_task = reports
    written = by_task["edit_remove"]["spectrograms"]
    assert written == ["spectrograms/000.png", "spectrograms/001.png"][:len(written)] and written
    data = (root / "edit_remove" / written[0]).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4:idat])[0]
    pixels = zlib.decompress(data[idat + 4:idat + 4 + length])
    assert len(pixels) == height * (1 + 3 * width)
    assert height == 3 * 80 + 2 * 3  # target, input, model panels of 80 mel bands, 2 rules


def test_resume_reuses_outputs_and_redoes_changed_ones(reports, eval_model, world_manifest,
                                                       fake_references) -> None:
    root, _ = reports
    out = root / "sr"
    model_file = out / "audio" / "000_model.wav"
    _, rate = load_audio(model_file)
    silent = np.zeros(load_audio(model_file)[0].shape, np.float32)
    save_audio(model_file, silent, rate)  # a file already there is used as it is
    options = dict(model=eval_model, manifest=world_manifest, out=out, n=2,
                   references=fake_references)
    again = evaluate_task("sr", steps=2, **options)
    assert again["outputs"] == {"made": 0, "reused": 8}  # 2 x (target, input, codec, model)
    assert not load_audio(model_file)[0].any()
    changed = evaluate_task("sr", steps=3, **options)
    assert changed["outputs"] == {"made": 2, "reused": 6}  # new steps: only the model outputs
    assert load_audio(model_file)[0].any()


def test_cfg_overrides_the_recipe_guidance(reports, eval_model, world_manifest,
                                           fake_references) -> None:
    root, first = reports
    options = dict(model=eval_model, manifest=world_manifest, n=2, steps=2,
                   references=fake_references)
    recipe_cfg = eval_model.recipe("t2a").cfg
    same = evaluate_task("t2a", out=root / "t2a_cfg_same", cfg=recipe_cfg, **options)
    plain = evaluate_task("t2a", out=root / "t2a_cfg_1", cfg=1.0, **options)
    assert same["cfg"] == recipe_cfg and first["t2a"]["cfg"] is None
    assert "guidance 1" in (root / "t2a_cfg_1" / "report.md").read_text()
    default_audio = load_audio(root / "t2a" / "audio" / "000_model.wav")[0]
    # The recipe's own scale reproduces the default run; another scale changes the samples.
    np.testing.assert_array_equal(load_audio(root / "t2a_cfg_same" / "audio" / "000_model.wav")[0],
                                  default_audio)
    unguided = load_audio(root / "t2a_cfg_1" / "audio" / "000_model.wav")[0]
    assert np.abs(unguided - default_audio).max() > 1e-3
    assert plain["rows"][MODEL_ROW] != first["t2a"]["rows"][MODEL_ROW]
    with pytest.raises(UnisonoError, match="cfg must be a number of at least 1"):
        evaluate_task("t2a", out=root / "t2a_bad", cfg=0.5, **options)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    eval_cli.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_errors_name_the_fix(eval_model, world_manifest, tmp_path) -> None:
    with pytest.raises(UnisonoError, match="unknown task 'nope'.*t2a"):
        evaluate_task("nope", model=eval_model, manifest=world_manifest, out=tmp_path)
    with pytest.raises(UnisonoError, match="not found.*world render"):
        evaluate_task("t2a", model=eval_model, manifest=tmp_path / "no.jsonl", out=tmp_path)
    with pytest.raises(UnisonoError, match="not trained for 'se'.*t2a"):
        evaluate_task("se", model=eval_model, manifest=world_manifest, out=tmp_path)
    out = ["--out", str(tmp_path / "cli")]
    with pytest.raises(UnisonoError, match="unknown task 'nope'"):
        eval_cli.run_eval(_parse(["eval", "nope", *out]))
    with pytest.raises(UnisonoError, match="not found"):
        eval_cli.run_eval(_parse(["eval", "t2a", "--manifest", str(tmp_path / "x.jsonl"), *out]))
    with pytest.raises(UnisonoError, match="--steps takes whole numbers"):
        eval_cli.run_eval(_parse(["eval", "t2a", "--steps", "8,many", *out]))
    assert eval_cli.parse_steps("8,25") == [8, 25]


def test_summary_numbers_each_reason_once() -> None:
    from unisono.evaluation.report import summary_table

    self_ref = "unavailable: it would compare each target with itself"
    reports = {
        "se": {"columns": ["pesq", "si_sdr"],
               "rows": {"model": {"pesq": 2.5, "si_sdr": 7.25},
                        "ground truth": {"pesq": self_ref, "si_sdr": self_ref}}},
        "sr": {"columns": ["lsd"],
               "rows": {"model": {"lsd": 1.5}, "ground truth": {"lsd": self_ref},
                        "input": {"lsd": "unavailable: no input | here"}}},
    }
    table = summary_table(reports)
    assert "| se | pesq | 2.5 | n/a [1] |  |" in table
    assert "| sr | lsd | 1.5 | n/a [1] | n/a [2] |" in table
    assert table.count(self_ref) == 1 and "[2] unavailable: no input / here" in table

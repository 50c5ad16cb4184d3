"""`unisono eval all` from the command line: every task of a tiny random model, the shipped
reference models, a world test split rendered into the output folder (slow: a few minutes)."""

from __future__ import annotations

import argparse
import json
import math

import pytest
import torch

from unisono.cli import evaluate as eval_cli
from unisono.evaluation import TRUTH_ROW, task_keys
from unisono.tasks import TASKS
from unisono.tasks.symbols import SYMBOLS


@pytest.mark.slow
def test_eval_all_reports_every_task(make_model_folder, tmp_path) -> None:
    torch.set_num_threads(1)
    folder = make_model_folder(list(TASKS), content_vocab=len(SYMBOLS), caption_stream=True,
                               caption_vocab=30522, caption_length=8)
    parser = argparse.ArgumentParser()
    eval_cli.register(parser.add_subparsers())
    out = tmp_path / "eval"
    args = parser.parse_args(["eval", "all", "--model", str(folder), "--out", str(out),
                              "--n", "2", "--steps", "2"])
    assert eval_cli.run_eval(args) == 0
    assert (out / "world_test" / "manifest.jsonl").is_file()  # rendered: no manifest was given
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["tasks"]) == list(TASKS)
    table = (out / "summary.md").read_text()
    for task, report in summary["tasks"].items():
        assert TRUTH_ROW in report["rows"]
        for values in report["rows"].values():
            assert list(values) == task_keys(task)
            for value in values.values():
                assert (isinstance(value, float) and math.isfinite(value)) or (
                    isinstance(value, str) and value.startswith("unavailable: ")), (task, value)
        assert (out / task / "report.md").is_file()
        assert f"| {task} | {task_keys(task)[0]} |" in table
    t2a = summary["tasks"]["t2a"]["rows"]
    assert all(isinstance(t2a["model"][key], float) for key in ("fd", "fad", "kl", "clap_score"))

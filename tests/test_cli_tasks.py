"""`unisono tasks`: the registry table and a model's trained tasks, from the index alone."""

from __future__ import annotations

import json

import pytest

from unisono.cli import main
from unisono.cli.tasks import task_table
from unisono.errors import UnisonoError
from unisono.model_folder import MODEL_INDEX
from unisono.tasks import TASKS


def test_table_lists_every_registered_task_once() -> None:
    rows = task_table().splitlines()[2:]
    assert sorted(row.split("|")[1].strip() for row in rows) == sorted(TASKS)


def test_model_column_marks_exactly_the_indexed_tasks(tmp_path) -> None:
    (tmp_path / MODEL_INDEX).write_text(json.dumps({"format": 1, "tasks": ["t2a", "se"]}))
    marked = {
        row.split("|")[1].strip(): row.split("|")[-2].strip()
        for row in task_table(str(tmp_path)).splitlines()[2:]
    }
    assert {name for name, mark in marked.items() if mark == "yes"} == {"t2a", "se"}
    assert set(marked.values()) == {"yes", "no"}


def test_a_folder_without_an_index_is_a_clear_error(tmp_path, capsys) -> None:
    with pytest.raises(UnisonoError, match="not a Unisono model folder"):
        task_table(str(tmp_path))
    assert main(["tasks", "--model", str(tmp_path)]) == 2
    assert "unisono train" in capsys.readouterr().err

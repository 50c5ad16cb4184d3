"""The API reads an edit instruction's task from its words: every instruction the editing tasks
train with (each template, with the fields their builders fill in) goes back to its own task."""

import numpy as np
import pytest
from task_fixtures import world_pool

from unisono.errors import UnisonoError
from unisono.instructions import EDIT_TASKS, edit_task_for
from unisono.tasks import get_task


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    return world_pool(tmp_path_factory)


@pytest.mark.parametrize("task", EDIT_TASKS)
def test_every_training_instruction_routes_to_its_task(pool, task) -> None:
    templates = get_task(task).templates
    seen, wrong = set(), []
    for index in range(12 * len(templates)):
        try:
            example = get_task(task).build(pool, np.random.default_rng([7, index]))
        except UnisonoError as err:  # e.g. a rewrite needs two utterances of one speaker
            pytest.skip(f"{task}: {err}")
        seen.add(example.instruction)
        if edit_task_for(example.instruction) != task:
            wrong.append(f"{example.instruction!r} -> {edit_task_for(example.instruction)}")
    assert not wrong, "\n".join(wrong)
    assert len(seen) >= len(templates)  # the draws covered many phrasings, not one


@pytest.mark.parametrize(("instruction", "task"), [
    ("Remove rain and add a dog barking.", "edit_replace"),   # a replace template, not remove
    ("Remove everything except drum roll.", "edit_extract"),
    ("Replace piano with violin, same notes.", "edit_restyle"),
    ('Change the speech to "See you tomorrow."', "speech_rewrite"),
    ('Add a woman saying "Hello there."', "speech_insert"),
    ("Remove the voice", "speech_delete"),
])
def test_specific_phrasings_beat_generic_ones(instruction, task) -> None:
    assert edit_task_for(instruction) == task

"""Task sampling: task-homogeneous batches (UNISON 3.7), config weights (UniFlow 4) and the
two-stage curriculum (generation tasks only for the first N steps)."""

import numpy as np
import pytest
from train_configs import tiny_train_config

from unisono.errors import UnisonoError
from unisono.tasks import get_task
from unisono.train.batches import ExampleSampler
from unisono.train.trainer import load_pool

WEIGHTS = {"t2a": 3.0, "edit_add": 1.0, "sr": 2.0, "caption": 2.0, "se": 0.0}


@pytest.fixture(scope="module")
def pool(world_manifest, tmp_path_factory):
    pool = load_pool(tiny_train_config(world_manifest, tmp_path_factory.mktemp("run")))[0]
    pool.sample_rate = 16000  # the codec's rate, as the trainer sets it
    return pool


def test_every_batch_holds_examples_of_its_steps_task_only(pool) -> None:
    sampler = ExampleSampler(WEIGHTS, pool, seed=3)
    seen = set()
    for step in range(12):
        task = sampler.task_for_step(step)
        examples = sampler.examples(step, 3)
        assert [example.task for example in examples] == [task] * 3, step
        seen.add(task)
    assert len(seen) >= 3  # the steps do mix tasks; each batch keeps to one


def test_task_frequencies_follow_the_weights(pool) -> None:
    sampler = ExampleSampler(WEIGHTS, pool, seed=0)
    steps = 4000
    drawn = [sampler.task_for_step(step) for step in range(steps)]
    total = sum(WEIGHTS.values())
    for name, weight in WEIGHTS.items():
        share = weight / total
        count = drawn.count(name)
        # Binomial counts: within 4 standard deviations of the expected count.
        assert abs(count - steps * share) <= 4 * np.sqrt(steps * share * (1 - share)) + 1e-9, (
            name, count)
    assert "se" not in drawn  # a zero weight is never drawn


def test_the_curriculum_trains_generation_tasks_only_for_its_first_steps(pool) -> None:
    sampler = ExampleSampler(WEIGHTS, pool, seed=1, generation_steps=500)
    first = [sampler.task_for_step(step) for step in range(500)]
    assert {get_task(name).family for name in first} == {"generation"}
    assert set(first) == {"t2a"}  # the only generation task of WEIGHTS
    later = [sampler.task_for_step(step) for step in range(500, 1500)]
    assert {"edit_add", "sr", "caption"} <= set(later)
    # Past the first stage the draws are those of a run without a curriculum.
    plain = ExampleSampler(WEIGHTS, pool, seed=1)
    assert later == [plain.task_for_step(step) for step in range(500, 1500)]


def test_a_curriculum_without_a_generation_task_is_refused(pool) -> None:
    with pytest.raises(UnisonoError, match="generation_steps"):
        ExampleSampler({"sr": 1.0, "caption": 1.0}, pool, seed=0, generation_steps=10)
    with pytest.raises(UnisonoError, match="weights must be >= 0"):
        ExampleSampler({"t2a": 1.0, "sr": -1.0}, pool, seed=0)


def test_the_trainer_runs_the_samplers_task_at_every_step(world_manifest, tmp_path) -> None:
    """metrics.csv logs each step's task loss; with log_every 1 each row has exactly the loss of
    the task the sampler chose for that step, first stage included."""
    config = tiny_train_config(world_manifest, tmp_path / "run", max_steps=6, checkpoint_every=6,
                               seed=2)
    config.tasks = {"t2a": 1.0, "sr": 1.0, "edit_add": 1.0}
    config.curriculum.generation_steps = 3
    from unisono.train import train_generator

    train_generator(config, show_progress=False)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    sampler = ExampleSampler(config.tasks, load_pool(config)[0], seed=2, generation_steps=3)
    for line in rows[1:]:
        values = dict(zip(header, line.split(","), strict=True))
        step = int(values["step"])
        logged = [name for name in config.tasks if values.get(f"flow/{name}", "nan") not in
                  ("nan", "")]
        assert logged == [sampler.task_for_step(step - 1)], (step, logged)
    assert len(rows) == 7

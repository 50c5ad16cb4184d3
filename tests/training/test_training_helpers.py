"""Checkpoint atomicity / retention, schedule closed forms, EMA, non-finite guard, CSV logging."""

import importlib.util
import math

import pytest
import torch
from torch import nn

from unisono.errors import UnisonoError
from unisono.training import (
    EMA,
    MetricLogger,
    NonFiniteGuard,
    OptimConfig,
    build_optimizer,
    cosine_schedule,
    latest_checkpoint,
    list_checkpoints,
    load_trainer_state,
    save_checkpoint,
)


def test_checkpoints_are_kept_and_found(tmp_path):
    for step in (10, 20, 30, 40):
        save_checkpoint(
            tmp_path,
            step,
            trainer_state={"step": step, "w": torch.arange(3)},
            write_files=lambda d: (d / "model.bin").write_bytes(b"x"),
            keep_last=2,
        )
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000030", "step-00000040"]
    latest = latest_checkpoint(tmp_path)
    assert latest.name == "step-00000040" and (latest / "model.bin").read_bytes() == b"x"
    state = load_trainer_state(latest)
    assert state["step"] == 40 and torch.equal(state["w"], torch.arange(3))


def test_a_save_killed_midway_leaves_the_previous_checkpoint(tmp_path):
    save_checkpoint(tmp_path, 1, trainer_state={"step": 1})

    def crash(folder):
        (folder / "half.bin").write_bytes(b"partial")
        raise KeyboardInterrupt  # the process dies while writing

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, 2, trainer_state={"step": 2}, write_files=crash)
    assert latest_checkpoint(tmp_path).name == "step-00000001"
    (tmp_path / "step-00000003").mkdir()  # a folder without trainer.pt is not a checkpoint
    assert latest_checkpoint(tmp_path).name == "step-00000001"
    save_checkpoint(tmp_path, 1, trainer_state={"step": 11})  # the same step saved again
    assert load_trainer_state(tmp_path / "step-00000001")["step"] == 11


def test_load_trainer_state_errors(tmp_path):
    with pytest.raises(UnisonoError, match="not a complete checkpoint"):
        load_trainer_state(tmp_path)
    (tmp_path / "trainer.pt").write_bytes(b"garbage")
    with pytest.raises(UnisonoError, match="cannot read"):
        load_trainer_state(tmp_path)


def test_cosine_schedule_closed_form():
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=2.0)
    schedule = cosine_schedule(optimizer, warmup_steps=4, total_steps=14, min_lr_ratio=0.1)
    lrs = []
    for _ in range(16):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert lrs[:4] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    assert lrs[9] == pytest.approx(2.0 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5))))
    assert lrs[14] == pytest.approx(0.2) and lrs[15] == pytest.approx(0.2)


def test_weight_decay_only_on_matrices():
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    optimizer = build_optimizer(model, OptimConfig(weight_decay=0.5))
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.5 and all(p.ndim == 2 for p in decayed["params"])
    assert plain["weight_decay"] == 0.0 and len(plain["params"]) == 3


def test_ema_closed_form():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model, step=100)  # warmed-up decay = min(0.5, 101/110) = 0.5
    assert ema.state_dict()["weight"].item() == pytest.approx(0.5)
    ema.update(model, step=0)  # warmup: decay = 1/10
    assert ema.state_dict()["weight"].item() == pytest.approx(0.1 * 0.5 + 0.9)
    target = nn.Linear(1, 1, bias=False)
    ema.copy_to(target)
    assert target.weight.item() == pytest.approx(0.95)


def test_non_finite_guard_skips_then_stops():
    guard = NonFiniteGuard(max_consecutive=2)
    assert guard.ok(torch.tensor(1.0), step=0)
    assert not guard.ok(float("nan"), step=1) and not guard.ok(float("inf"), step=2)
    assert guard.ok(0.5, step=3) and guard.skipped == 2
    guard.ok(float("nan"), step=4)
    guard.ok(float("nan"), step=5)
    with pytest.raises(UnisonoError, match="lower the learning rate"):
        guard.ok(float("nan"), step=6)


def test_metric_logger_drops_rows_after_the_resume_step(tmp_path):
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.warns(UserWarning, match="tensorboard is not installed"):
            logger = MetricLogger(tmp_path, tensorboard=True)
    else:
        logger = MetricLogger(tmp_path, tensorboard=True)
    for step in (1, 2, 3, 4):
        logger.log(step, {"loss": step * 0.5})
    resumed = MetricLogger(tmp_path, tensorboard=False, resume_step=2)
    resumed.log(3, {"loss": 9.0})
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines == ["step,loss", "1,0.5", "2,1.0", "3,9.0"]

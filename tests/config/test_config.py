"""Strict typed configs: YAML, overrides, unknown keys named, types checked, round trip."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from unisono import UnisonoError
from unisono.config import config_to_dict, load_config, save_config


@dataclass
class Optim:
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.95)


@dataclass
class Train:
    name: str = "run"
    steps: int = 100
    solver: Literal["euler", "heun"] = "euler"
    optim: Optim = field(default_factory=Optim)
    tasks: dict[str, float] = field(default_factory=dict)
    resume: str | None = None


def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 5\noptim:\n  lr: 0.01\n")
    cfg = load_config(Train, path, ["optim.betas=[0.8, 0.99]", "tasks.t2a=2", "solver=heun", "name=x"])
    assert load_config(Train, overrides=["optim.lr=3e-3"]).optim.lr == 0.003
    assert cfg.steps == 5 and cfg.optim.lr == 0.01 and cfg.optim.betas == (0.8, 0.99)
    assert cfg.tasks == {"t2a": 2.0} and cfg.solver == "heun" and cfg.name == "x"


def test_unknown_key_is_named_with_suggestion(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optim:\n  lrr: 0.01\n")
    with pytest.raises(UnisonoError, match=r"unknown config key 'optim.lrr'.*'lr'"):
        load_config(Train, path)
    with pytest.raises(UnisonoError, match="'stepz'"):
        load_config(Train, overrides=["stepz=3"])


def test_bad_types_and_values_are_errors():
    with pytest.raises(UnisonoError, match="steps: expected an integer"):
        load_config(Train, overrides=["steps=abc"])
    with pytest.raises(UnisonoError, match="solver"):
        load_config(Train, overrides=["solver=rk9"])
    with pytest.raises(UnisonoError, match="key.path=value"):
        load_config(Train, overrides=["steps"])
    with pytest.raises(UnisonoError, match="not found"):
        load_config(Train, "/nonexistent.yaml")


def test_save_and_reload_round_trip(tmp_path):
    cfg = load_config(Train, overrides=["optim.lr=0.5", "resume=last"])
    for name in ("c.yaml", "c.json"):
        save_config(cfg, tmp_path / name)
        assert load_config(Train, tmp_path / name) == cfg
    assert config_to_dict(cfg)["optim"]["betas"] == [0.9, 0.95]

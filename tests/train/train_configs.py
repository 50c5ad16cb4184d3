"""A tiny generator config that trains in seconds (a module of its own, not conftest: `from
conftest import` would pick up whichever conftest pytest imported first)."""

import csv
from pathlib import Path

from unisono.config import config_from_dict
from unisono.train import TrainGeneratorConfig


def tiny_train_config(manifest: Path, output_dir: Path, **run) -> TrainGeneratorConfig:
    data = {
        "model": {"latent_channels": 32, "width": 32, "depth": 2, "heads": 2, "mlp_ratio": 2.0,
                  "content_dim": 16, "duration_hidden": 16},
        "data": {"manifests": [str(manifest)], "batch_size": 3, "max_seconds": 10.0},
        "tasks": {"t2a": 1.0},
        "optim": {"lr": 1e-3, "warmup_steps": 2},
        "run": {"output_dir": str(output_dir), "max_steps": 4, "checkpoint_every": 2,
                "log_every": 1, "tensorboard": False, "threads": 1, "keep_last": 5, **run},
    }
    return config_from_dict(TrainGeneratorConfig, data)


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    """A run's metrics.csv as one dict per logged step."""
    with open(run_dir / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))

"""Fixtures shared by every test folder."""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from unisono.models.dit import DiT, DiTConfig
from unisono.pipeline import write_model_folder

TINY_GENERATOR = dict(width=32, depth=2, heads=2, mlp_ratio=2.0, content_dim=16, duration_hidden=16)


def random_model_folder(folder: Path, tasks: list[str], *, seed: int = 0, **config) -> Path:
    """A Unisono model folder whose tiny generator has random, non-zero weights (every path of the
    network does something), for tests of the API, CLI, demo and web UI."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = DiT(DiTConfig(**{**TINY_GENERATOR, **config}))
        with torch.no_grad():
            for param in generator.parameters():
                param.normal_(0.0, 0.05)
    generator.save_pretrained(folder / "ckpt")
    return write_model_folder(folder / "model", generator_dir=folder / "ckpt", codec_dir=None,
                              text_encoder=None, tasks=tasks)


@pytest.fixture(scope="session")
def make_model_folder(tmp_path_factory) -> Callable[..., Path]:
    """`make_model_folder(tasks, seed=0, **generator_config)` -> a random tiny model folder."""

    def make(tasks: list[str], *, seed: int = 0, **config) -> Path:
        return random_model_folder(tmp_path_factory.mktemp("model"), tasks, seed=seed, **config)

    return make

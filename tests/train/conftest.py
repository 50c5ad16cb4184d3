"""Fixtures: a few rendered world clips (the tiny generator config is in train_configs.py)."""

from pathlib import Path

import pytest

from unisono.world.writer import render_world


@pytest.fixture(scope="session")
def world_manifest(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    return render_world(out, n=6, seed=3, split="train", kinds="sfx", write_stems=False,
                        progress=False)

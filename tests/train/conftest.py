"""Fixtures: a few rendered world clips (the tiny generator config is in train_configs.py)."""

from pathlib import Path

import pytest

from unisono.world.writer import render_world


@pytest.fixture(scope="session")
def world_manifest(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    return render_world(out, n=6, seed=3, split="train", kinds="sfx", write_stems=False,
                        progress=False)


@pytest.fixture(scope="session")
def val_manifest(tmp_path_factory) -> Path:
    """Held-out clips (another seed and split) for `data.val_manifests`."""
    out = tmp_path_factory.mktemp("val")
    return render_world(out, n=3, seed=5, split="val", kinds="sfx", write_stems=False,
                        progress=False)

"""Fixtures of the evaluation tests: a tiny world test manifest, a tiny random model, and cheap
stand-ins for the reference models whose outputs are known."""

from __future__ import annotations

import pytest
import torch
from eval_fixtures import FAST_TASKS, fake_reference_models

from unisono.evaluation import ReferenceModels


@pytest.fixture
def fake_references() -> ReferenceModels:
    return fake_reference_models()


@pytest.fixture(scope="session")
def world_manifest(tmp_path_factory):
    from unisono.world.writer import render_world

    return render_world(tmp_path_factory.mktemp("world_test"), n=10, seed=5, split="test",
                        write_stems=False, progress=False)


@pytest.fixture(scope="session")
def eval_model(make_model_folder):
    from unisono.evaluation import load_model

    torch.set_num_threads(1)
    folder = make_model_folder(FAST_TASKS, caption_stream=True, caption_vocab=30522,
                               caption_length=8)
    return load_model(folder)[0]

"""Fixtures: a tiny random-weight model folder (captioning included) and a server launcher."""

import os
from collections.abc import Iterator

import pytest
import torch

pytest.importorskip("gradio", reason="the web UI needs the [serve] extra (pip install -e '.[serve]')")

from unisono.pipeline import Unisono  # noqa: E402

# t2m and svs are left out on purpose: their tabs must say the model was not trained for them.
WEBUI_TASKS = ["t2a", "tts", "tts_clone", "edit_add", "edit_remove", "se", "sr", "caption",
               "question"]


@pytest.fixture(scope="session", autouse=True)
def _offline_and_one_thread() -> Iterator[None]:
    previous_env = os.environ.get("GRADIO_ANALYTICS_ENABLED")
    previous_threads = torch.get_num_threads()
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous_threads)
    if previous_env is None:
        os.environ.pop("GRADIO_ANALYTICS_ENABLED", None)
    else:
        os.environ["GRADIO_ANALYTICS_ENABLED"] = previous_env


@pytest.fixture(scope="session")
def webui_model_dir(make_model_folder):
    return make_model_folder(WEBUI_TASKS, caption_stream=True, caption_vocab=30522,
                             caption_length=8)


@pytest.fixture(scope="session")
def webui_model(webui_model_dir) -> Unisono:
    return Unisono.from_pretrained(webui_model_dir)

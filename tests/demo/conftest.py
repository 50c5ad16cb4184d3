"""Fixtures of the demo and batch-CLI tests: a tiny random model folder and a CLI runner."""

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from unisono.cli import demo as demo_cli
from unisono.cli import tasks as tasks_cli

ALL_TASKS = ["t2a", "t2m", "timed", "t2as", "edit_remove", "edit_add", "edit_restyle",
             "speech_insert", "speech_rewrite", "se", "sr", "tts", "tts_clone", "svs", "caption",
             "question"]


@pytest.fixture(scope="session")
def demo_tasks() -> list[str]:
    """The tasks of the demo test model: every task the demo has an example for."""
    return list(ALL_TASKS)


@pytest.fixture(scope="session")
def demo_model_dir(make_model_folder) -> Path:
    """A tiny random model folder trained (nominally) for every task the demo shows."""
    return make_model_folder(ALL_TASKS, caption_stream=True, caption_vocab=30522,
                             caption_length=8, content_vocab=92)


@pytest.fixture
def run_cli() -> Callable[[list[str]], int]:
    """Parse and run `unisono demo | edit | caption ...` from this folder's CLI modules."""
    parser = argparse.ArgumentParser(prog="unisono")
    subparsers = parser.add_subparsers(dest="command", required=True)
    demo_cli.register(subparsers)
    tasks_cli.register(subparsers)

    def run(argv: list[str]) -> int:
        args = parser.parse_args(argv)
        return args.func(args)

    return run

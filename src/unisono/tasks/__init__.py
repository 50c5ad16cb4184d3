"""Tasks: the registry of what one Unisono model can be trained for and asked to do."""

from unisono.tasks import generation  # noqa: F401  (registers t2a, t2m)
from unisono.tasks.base import (
    TAG_GENERATE,
    TAG_REFERENCE,
    TAG_TRANSFORM,
    TASKS,
    ClipPool,
    InferenceRecipe,
    Task,
    TaskExample,
    fill_template,
    get_task,
)

__all__ = [
    "TAG_GENERATE",
    "TAG_REFERENCE",
    "TAG_TRANSFORM",
    "TASKS",
    "ClipPool",
    "InferenceRecipe",
    "Task",
    "TaskExample",
    "fill_template",
    "get_task",
]

"""Tasks: the registry of what one Unisono model can be trained for and asked to do."""

from unisono.tasks import (
    editing,  # noqa: F401  (edit_add/remove/replace/extract/restyle, timed)
    generation,  # noqa: F401  (registers t2a, t2m)
    restoration,  # noqa: F401  (registers se, sr)
    singing,  # noqa: F401  (registers svs)
    speech,  # noqa: F401  (tts, tts_aligned, tts_clone(_masked), tts_styled, t2as, speech_*)
    understanding,  # noqa: F401  (caption, question)
)
from unisono.tasks.base import (
    TAG_GENERATE,
    TAG_REFERENCE,
    TAG_TRANSFORM,
    TASKS,
    ClipPool,
    InferenceRecipe,
    Task,
    TaskExample,
    check_source_prior,
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
    "check_source_prior",
    "fill_template",
    "get_task",
]

"""The evaluation suite: `unisono eval TASK|all` runs a model on a task's test examples, scores
its outputs beside reference rows, and writes report.json / report.md / audio / spectrograms.

- `examples`: the test examples of every task, drawn from a manifest (seeded), with the facts the
  synthetic world knows about each (event classes, onsets, gender, key, transcript, ...).
- `running`: how the model runs on each example (the pipeline methods), with resumable storage.
- `plans`: which metrics score each task and which rows its report has.
- `oracles` / `signals`: checks only the world can give (event presence and absence, onsets,
  key, pitch classes, gender, exact answers).
- `references`: the reference models (tagger, contrastive embedder, aiSFX, Whisper), memoised.
- `scoring` / `report` / `runner`: one row's scores, the written reports, the whole run.
"""

from unisono.evaluation.examples import EvalExample, build_examples
from unisono.evaluation.plans import (
    CODEC_ROW,
    INPUT_ROW,
    MODEL_ROW,
    SPECS,
    TASK_METRICS,
    TRUTH_ROW,
    RowItem,
    rows_of,
    task_keys,
)
from unisono.evaluation.references import ReferenceModels
from unisono.evaluation.runner import (
    DEFAULT_N,
    default_manifest,
    evaluate_all,
    evaluate_pool,
    evaluate_task,
    load_model,
)
from unisono.evaluation.running import OutputStore, run_model
from unisono.evaluation.scoring import score_row

__all__ = [
    "CODEC_ROW", "DEFAULT_N", "INPUT_ROW", "MODEL_ROW", "SPECS", "TASK_METRICS", "TRUTH_ROW",
    "EvalExample", "OutputStore", "ReferenceModels", "RowItem", "build_examples",
    "default_manifest", "evaluate_all", "evaluate_pool", "evaluate_task", "load_model",
    "rows_of", "run_model", "score_row", "task_keys",
]

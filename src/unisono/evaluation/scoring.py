"""Scoring one report row: every metric of the task's plan on the row's outputs.

A row is one output per example (`RowItem`: audio, the whole utterance for cloning, or a text
answer). `score_row` builds each metric of the task (`unisono.evaluation.plans.task_specs`),
feeds it the row and returns {report column: value}. Every value is a float or "unavailable:
<reason>", never anything else:

- the metric compares an output with its own target and the row is the ground truth itself;
- the metric describes the model (the duration predictor) and the row is not a model row;
- its package or reference model is missing here (the metric says which and how to install it);
- it failed on these clips with a `UnisonoError` (too short for PESQ, one clip for FD, ...);
- the result is not finite.

Shapes: S samples.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from unisono.errors import UnisonoError
from unisono.evaluation.examples import EvalExample
from unisono.evaluation.plans import (
    TRUTH_ROW,
    MetricSpec,
    RowItem,
    task_keys,
    task_specs,
)
from unisono.evaluation.references import ReferenceModels
from unisono.metrics.base import Metric, MetricValue, json_number, unavailable

SELF_COMPARISON = ("it would compare each target with itself; the codec round-trip row shows the "
                   "best a decoded output can score")
MODEL_PROPERTY = "it describes the model's duration predictor, not audio"
ANSWERS_FROM_MANIFEST = "the expected answers are read from the manifest, so they are right"


def _fill(spec: MetricSpec, reason: str) -> dict[str, MetricValue]:
    return {key: unavailable(reason) for key in spec.keys}


def _feed_sets(metric: Metric, items: Sequence[RowItem], reference_set: Sequence[np.ndarray],
               sample_rate: int) -> None:
    for item in items:
        metric.update(estimate=item.audio, sample_rate=sample_rate)
    for clip in reference_set:
        metric.update(reference=clip, sample_rate=sample_rate)


def _checked(spec: MetricSpec, values: dict[str, MetricValue]) -> dict[str, MetricValue]:
    checked: dict[str, MetricValue] = {}
    for key in spec.keys:
        value = values.get(key)
        if value is None and len(values) == 1:
            value = next(iter(values.values()))
        if isinstance(value, str) and value.startswith("unavailable: "):
            checked[key] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
                float(value)):
            checked[key] = float(value)
        else:
            checked[key] = unavailable(f"{spec.name} gave {value!r}, not a finite number")
    return checked


def score_spec(spec: MetricSpec, row: str, items: Sequence[RowItem],
               examples: Sequence[EvalExample], refs: ReferenceModels, *,
               reference_set: Sequence[np.ndarray] | str, model_row: bool,
               per_item: dict[str, list[Any]] | None = None) -> dict[str, MetricValue]:
    """One metric's columns for one row (see the module docstring for when they are reasons).

    Args:
        spec: the metric.
        row: the row's name.
        items: the row's output per example.
        examples: the examples, same order.
        refs: the reference models.
        reference_set: the clips FD / FAD compare the row with, or why there are none.
        model_row: whether the row holds model outputs.
        per_item: if given, receives the metric's value per example under its first column
            (None where not finite) and, for metrics that transcribe, the transcripts under
            "heard"; metrics over sets of clips (FD, FAD) have no per-example value.
    """
    if spec.compares_target and row == TRUTH_ROW:
        return _fill(spec, SELF_COMPARISON)
    if spec.model_only and not model_row:
        return _fill(spec, MODEL_PROPERTY)
    if spec.name == "accuracy" and row == TRUTH_ROW:
        return _fill(spec, ANSWERS_FROM_MANIFEST)
    if spec.sets and isinstance(reference_set, str):
        return _fill(spec, reference_set)
    try:
        metric = spec.build(refs)
        if metric.missing is not None:
            return _fill(spec, metric.missing)
        if spec.sets:
            _feed_sets(metric, items, reference_set, examples[0].sample_rate)
        else:
            assert spec.feed is not None
            for item, example in zip(items, examples, strict=True):
                spec.feed(metric, item, example)
                metric.end_item()
        values = _checked(spec, metric.compute())
        if per_item is not None and not spec.sets:
            _per_item(metric, spec, len(items), per_item)
        return values
    except UnisonoError as error:
        return _fill(spec, f"{spec.name} failed: {error}")


def _per_item(metric: Metric, spec: MetricSpec, count: int,
              per_item: dict[str, list[Any]]) -> None:
    values = metric.item_values()
    if values is not None and len(values) == count:
        per_item[spec.keys[0]] = [json_number(v) for v in values]
    texts = metric.item_texts()
    if texts is not None and len(texts) == count:
        per_item["heard"] = list(texts)


def score_row(task: str, row: str, items: Sequence[RowItem], examples: Sequence[EvalExample],
              refs: ReferenceModels, *, reference_set: Sequence[np.ndarray] | str,
              model_row: bool = False, timings: dict[str, float] | None = None,
              per_item: dict[str, list[Any]] | None = None) -> dict[str, MetricValue]:
    """Every column of a task's report for one row.

    Args:
        task: the task (its plan picks the metrics).
        row: the row's name ("model", "ground truth", ...).
        items: one output per example.
        examples: the examples.
        refs: the reference models.
        reference_set: FD / FAD's reference clips, or why there are none.
        model_row: the row holds model outputs (duration error applies).
        timings: if given, seconds spent per metric are added to it.
        per_item: if given, receives per-example values and transcripts (see `score_spec`).

    Returns:
        {column: float or "unavailable: <reason>"} in the task's column order.
    """
    if len(items) != len(examples):
        raise UnisonoError(f"row {row!r} has {len(items)} outputs for {len(examples)} examples.")
    values: dict[str, MetricValue] = {}
    for spec in task_specs(task):
        start = time.perf_counter()
        values.update(score_spec(spec, row, items, examples, refs, reference_set=reference_set,
                                 model_row=model_row, per_item=per_item))
        if timings is not None:
            timings[spec.name] = timings.get(spec.name, 0.0) + time.perf_counter() - start
    return {key: values[key] for key in task_keys(task)}


def unavailable_row(task: str, reason: str) -> dict[str, MetricValue]:
    """A row whose every column is "unavailable: <reason>" (e.g. no test examples)."""
    return {key: unavailable(reason) for key in task_keys(task)}

"""How good the reference models are: tagger F1 on single-event clips, text-to-audio retrieval.

Metrics:
- `single_label_macro_f1`: per-class F1 of a top-1 classification, averaged over every class that
  occurs in the truth or the predictions (scikit-learn's "macro" over the union of labels).
- `multi_label_macro_f1`: the same for sets of labels per clip (present if p >= threshold).
- `retrieval_recall`: R@k of text-to-audio retrieval, query i's match being audio i.

`tagger_scores` reads single-event clips (one event; a background bed may play under it): the
top-1 sound-event label against the event's class, and the thresholded multi-label F1 against
{event, bed}. Candidates of the top-1 are the sound-event labels; the bed-only labels ("traffic",
"babble", ...) and the coarse ones never are, and over a bed that is itself an event class ("rain",
"wind", "stream") that label is left out too: it is present, but it is not the event asked about.
Scores are given for all single-event clips, for isolated ones (no bed) and per source.

Shapes: Q queries, N items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError
from unisono.models.tagger import TagPrediction
from unisono.refmodels.labels import COARSE_LABELS, WORLD_SOURCE


def _f1(true_positive: int, false_positive: int, false_negative: int) -> float:
    denominator = 2 * true_positive + false_positive + false_negative
    return 2 * true_positive / denominator if denominator else 0.0


def single_label_macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro F1 of a single-label classification over the union of true and predicted labels."""
    if len(truth) != len(predicted) or not truth:
        raise UnisonoError("truth and predictions must be non-empty and of equal length")
    return multi_label_macro_f1([{t} for t in truth], [{p} for p in predicted])


def multi_label_macro_f1(truth: Sequence[set[str]], predicted: Sequence[set[str]]) -> float:
    """Macro F1 over every label in the truth or the predictions (label sets per clip)."""
    if len(truth) != len(predicted) or not truth:
        raise UnisonoError("truth and predictions must be non-empty and of equal length")
    labels = sorted(set().union(*truth, *predicted))
    scores = []
    for label in labels:
        tp = sum(label in t and label in p for t, p in zip(truth, predicted, strict=True))
        fp = sum(label not in t and label in p for t, p in zip(truth, predicted, strict=True))
        fn = sum(label in t and label not in p for t, p in zip(truth, predicted, strict=True))
        scores.append(_f1(tp, fp, fn))
    return float(np.mean(scores))


def retrieval_recall(similarity: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """R@k for a (Q, Q) query-by-item similarity whose correct item for query i is item i.

    Ties count against the query (an item scoring the same as the match ranks above it).
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise UnisonoError(f"similarity must be square (queries, items); got {similarity.shape}")
    correct = np.diag(similarity)
    rank = (similarity >= correct[:, None]).sum(axis=1) - 1  # items at least as good, minus itself
    return {f"R@{k}": float(np.mean(rank < k)) for k in ks}


def sound_event_labels(labels: Sequence[str]) -> list[str]:
    """Event-head labels that name sound events: the procedural and recorded classes, not the
    background-only beds or the coarse speech / singing / music labels."""
    from unisono.world import backgrounds, sfx

    beds = (set(backgrounds.BACKGROUNDS) | {"babble"}) - set(sfx.EVENT_CLASSES)
    return [name for name in labels if name not in beds and name not in COARSE_LABELS]


def single_event(entry: ManifestEntry) -> tuple[str, str] | None:
    """(class, "procedural" | "real") of a clip holding exactly one sound event and no speech,
    music or singing; None otherwise. World clips name their events; a clip of another manifest
    (the recorded clips) counts when it carries exactly one label."""
    if set(COARSE_LABELS) & set(entry.labels):
        return None
    if entry.events:
        if len(entry.events) != 1:
            return None
        details = entry.extra.get("event_details") or [{}]
        return entry.events[0].event_class, str(details[0].get("source", "procedural"))
    if entry.source != WORLD_SOURCE and len(entry.labels) == 1:
        return entry.labels[0], "real"
    return None


def single_event_clips(entries: Sequence[ManifestEntry]) -> list[int]:
    """Indices of the clips for which `single_event` finds one event."""
    return [i for i, entry in enumerate(entries) if single_event(entry) is not None]


def tagger_scores(prediction: TagPrediction, entries: Sequence[ManifestEntry], *,
                  threshold: float = 0.5) -> dict[str, float]:
    """Scores of a tagger on single-event clips (see the module docstring).

    Args:
        prediction: the tagger's output for exactly `entries` (same order).
        entries: world manifest entries.
        threshold: probability at which a label counts as present.

    Returns:
        clips, top1_macro_f1, top1_accuracy, multilabel_macro_f1, and the top-1 macro F1 (and
        clip count) of the isolated clips, of the procedural and of the recorded (real) events.
    """
    if len(prediction) != len(entries):
        raise UnisonoError(f"{len(prediction)} predictions for {len(entries)} entries")
    chosen = single_event_clips(entries)
    if not chosen:
        raise UnisonoError("no single-event clips in these entries: render sfx clips")
    names = list(prediction.labels["event"])
    candidates = set(sound_event_labels(names))
    probabilities = prediction.probabilities["event"]
    truth, top1, truth_sets, predicted_sets, sources, isolated = [], [], [], [], [], []
    for i in chosen:
        entry = entries[i]
        event_class, source = single_event(entry)
        background = entry.extra.get("background")
        allowed = [k for k, name in enumerate(names) if name in candidates and name != background]
        truth.append(event_class)
        top1.append(names[allowed[int(np.argmax(probabilities[i, allowed]))]])
        truth_sets.append({event_class} | ({str(background)} if background else set()))
        predicted_sets.append({names[k] for k in np.flatnonzero(probabilities[i] >= threshold)})
        sources.append(source)
        isolated.append(not background)
    scores = {
        "clips": float(len(chosen)),
        "top1_macro_f1": single_label_macro_f1(truth, top1),
        "top1_accuracy": float(np.mean([t == p for t, p in zip(truth, top1, strict=True)])),
        "multilabel_macro_f1": multi_label_macro_f1(truth_sets, predicted_sets),
    }
    groups = {"isolated": [k for k, alone in enumerate(isolated) if alone],
              "procedural": [k for k, s in enumerate(sources) if s == "procedural"],
              "real": [k for k, s in enumerate(sources) if s == "real"]}
    for name, rows in groups.items():
        if rows:
            scores[f"top1_macro_f1_{name}"] = single_label_macro_f1(
                [truth[k] for k in rows], [top1[k] for k in rows])
            scores[f"clips_{name}"] = float(len(rows))
    return scores

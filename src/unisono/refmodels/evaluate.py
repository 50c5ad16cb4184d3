"""How good the reference models are: tagger F1 on single-event clips, text-to-audio retrieval.

Metrics:
- `single_label_macro_f1`: per-class F1 of a top-1 classification, averaged over every class that
  occurs in the truth or the predictions (scikit-learn's "macro" over the union of labels).
- `multi_label_macro_f1`: the same for sets of labels per clip (present if p >= threshold).
- `retrieval_recall`: R@k of text-to-audio retrieval, query i's match being audio i (and, when
  groups are given, any audio whose caption is the same text); `measure_retrieval` runs it over
  a manifest (`unisono retrieve`), optionally with the word channel (`unisono.models.words`).

`tagger_scores` reads single-event clips (one event; a background bed may play under it): the
top-1 sound-event label against the event's class, and the thresholded multi-label F1 against
{event, bed}. Candidates of the top-1 are the sound-event labels; the bed-only labels ("traffic",
"babble", ...) and the coarse ones never are, and over a bed that is itself an event class ("rain",
"wind", "stream") that label is left out too: it is present, but it is not the event asked about
(unless the event is of the bed's own class: then it is the answer).
Scores are given for all single-event clips, for isolated ones (no bed) and per source.

Shapes: Q queries, N items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError
from unisono.models.tagger import TagPrediction
from unisono.refmodels.labels import COARSE_LABELS, WORLD_SOURCE

if TYPE_CHECKING:
    from unisono.models.clap import ContrastiveEmbedder


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


def retrieval_ranks(similarity: np.ndarray, groups: Sequence[object] | None = None) -> np.ndarray:
    """(Q,) rank (0 = first) of the best correct item of each query of a (Q, Q) similarity.

    Item i is correct for query i; with `groups` (one key per query / item, e.g. the caption
    text), every item of the query's group is: two clips with the same caption cannot be told
    apart by their text, so retrieving either is a hit. Ties count against the query (a wrong
    item scoring the same as the best correct one ranks above it).
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise UnisonoError(f"similarity must be square (queries, items); got {similarity.shape}")
    size = similarity.shape[0]
    if groups is None:
        correct = np.eye(size, dtype=bool)
    else:
        if len(groups) != size:
            raise UnisonoError(f"{len(groups)} groups for {size} queries: give one per query")
        keys = list(groups)
        correct = np.array([[a == b for b in keys] for a in keys], dtype=bool)
    best = np.where(correct, similarity, -np.inf).max(axis=1)
    return ((similarity >= best[:, None]) & ~correct).sum(axis=1)


def retrieval_recall(similarity: np.ndarray, ks: Sequence[int] = (1, 5, 10), *,
                     groups: Sequence[object] | None = None) -> dict[str, float]:
    """R@k for a (Q, Q) query-by-item similarity whose correct item for query i is item i (and,
    with `groups`, every item sharing query i's group: see `retrieval_ranks`)."""
    rank = retrieval_ranks(similarity, groups)
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
                  threshold: float = 0.5, classes: Sequence[str] | None = None) -> dict[str, float]:
    """Scores of a tagger on single-event clips (see the module docstring).

    Args:
        prediction: the tagger's output for exactly `entries` (same order).
        entries: world manifest entries.
        threshold: probability at which a label counts as present.
        classes: when given, only clips whose event is of one of these classes are scored, and
            the top-1 label is chosen among them (a classifier of these classes only, e.g. the
            procedural ones).

    Returns:
        clips, top1_macro_f1, top1_accuracy, multilabel_macro_f1, and the top-1 macro F1 (and
        clip count) of the isolated clips, of the procedural and of the recorded (real) events.
    """
    if len(prediction) != len(entries):
        raise UnisonoError(f"{len(prediction)} predictions for {len(entries)} entries")
    chosen = single_event_clips(entries)
    if classes is not None:
        chosen = [i for i in chosen if single_event(entries[i])[0] in set(classes)]
    if not chosen:
        raise UnisonoError("no single-event clips (of the given classes) in these entries: "
                           "render sfx clips")
    names = list(prediction.labels["event"])
    candidates = set(sound_event_labels(names)) & set(names if classes is None else classes)
    probabilities = prediction.probabilities["event"]
    truth, top1, truth_sets, predicted_sets, sources, isolated = [], [], [], [], [], []
    for i in chosen:
        entry = entries[i]
        event_class, source = single_event(entry)
        background = entry.extra.get("background")
        allowed = [k for k, name in enumerate(names)
                   if name in candidates and (name != background or name == event_class)]
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


def retrieval_report(similarity: np.ndarray, entries: Sequence[ManifestEntry],
                     captions: Sequence[str]) -> dict[str, float]:
    """R@1 / R@5 / R@10 of a (Q, Q) caption-by-clip similarity (clips with the very same caption
    text count as each other's match; "R@1/strict" does not), plus R@1 and R@10 per kind, each
    kind still ranked among all clips."""
    found = retrieval_recall(similarity, ks=(1, 5, 10), groups=captions)
    found["R@1/strict"] = retrieval_recall(similarity, ks=(1,))["R@1"]
    ranks = retrieval_ranks(similarity, captions)
    for kind in sorted({entry.kind for entry in entries}):
        rows = [i for i, entry in enumerate(entries) if entry.kind == kind]
        found[f"R@1/{kind}"] = float(np.mean(ranks[rows] < 1))
        found[f"R@10/{kind}"] = float(np.mean(ranks[rows] < 10))
    found["clips"] = float(len(entries))
    return found


def _cached_transcripts(audio: list[np.ndarray], sample_rate: int, cache: Path | None) -> list[str]:
    """Whisper-tiny transcripts of the clips, read from / written to `cache` (JSON) when given."""
    from unisono.models.words import transcribe_clips

    if cache is not None and cache.is_file():
        stored = json.loads(cache.read_text())
        if isinstance(stored, list) and len(stored) == len(audio):
            return stored
    transcripts = transcribe_clips(audio, sample_rate)
    if cache is not None:
        cache.write_text(json.dumps(transcripts, indent=0))
    return transcripts


def measure_retrieval(embedder: ContrastiveEmbedder, manifest: str | Path, *,
                      n: int | None = None, words: bool = False,
                      weights: Sequence[float] | None = None,
                      transcripts_cache: Path | None = None) -> dict[str, dict[str, float]]:
    """Text-to-audio retrieval among the first `n` clips of a manifest (all when None), each
    clip's first caption its query: {"audio": the embedder alone} and, with `words`, the word
    channel at WORD_WEIGHT ({"words": ...}) or at each of `weights` ({"words@W": ...}).

    Raises:
        UnisonoError: fewer than n clips, fewer than two, or a clip without a caption.
    """
    from unisono.audio import load_audio
    from unisono.data.manifest import read_manifest, resolve_path
    from unisono.models.words import WORD_WEIGHT, retrieval_similarity

    entries = read_manifest(manifest)
    if n is not None and len(entries) < n:
        raise UnisonoError(f"{manifest} lists {len(entries)} clips; retrieval among {n} needs at "
                           f"least {n} (render more, or lower --n)")
    entries = entries[:n] if n is not None else entries
    if len(entries) < 2:
        raise UnisonoError(f"{manifest}: retrieval needs at least two clips")
    missing = [entry.id for entry in entries if not entry.captions]
    if missing:
        raise UnisonoError(f"{manifest}: clips without captions cannot be queried: "
                           f"{', '.join(missing[:5])}; give every entry a caption")
    rate = embedder.config.mel.sample_rate
    audio = [load_audio(resolve_path(entry, manifest), rate)[0] for entry in entries]
    captions = [entry.captions[0] for entry in entries]
    audio_embeddings = embedder.embed_audio(audio, rate)
    text_embeddings = embedder.embed_text(captions)
    report = {"audio": retrieval_report(text_embeddings @ audio_embeddings.T, entries, captions)}
    if words:
        transcripts = _cached_transcripts(audio, rate, transcripts_cache)
        for weight in weights or [WORD_WEIGHT]:
            similarity = retrieval_similarity(text_embeddings, audio_embeddings, captions,
                                              transcripts, weight=weight)
            report["words" if weights is None else f"words@{weight:g}"] = retrieval_report(
                similarity, entries, captions)
    return report

"""Score a folder of generated audio against a folder of references, with no generator in the loop.

Files are matched by their path inside each folder without the suffix, so "a/clip1.wav" in the
generated folder pairs with "a/clip1.flac" in the reference folder. What each metric reads,
by its `inputs` (see `unisono.metrics.base`):

- paired (LSD, SI-SDR, PESQ, STOI, KL, F0, speaker similarity): each generated clip and the
  reference of the same name; a generated clip without a reference is an error, extra
  references are ignored. A generated clip at another rate is resampled to the reference's.
  Metrics comparing sample by sample need equal lengths: `align="trim"` cuts both to the shorter.
- sets (FD, FAD): every clip of each folder, unpaired.
- generated (IS, DNSMOS, speech removal rate): every generated clip.
- transcript (WER / CER): every generated clip, with what it should say in "<name>.txt" in the
  reference folder.
- captions (BLEU, METEOR, ROUGE-L, CIDEr-D, SPICE, SPIDEr): "<name>.txt" in both folders; the
  generated caption is the file's first non-empty line, the references are its non-empty lines.
- edited (change energy): as paired, plus the transformation's input of the same name in a third
  folder (`source_dir`), resampled to the reference's rate.

Each metric resamples clips to the rate it is defined at. The report is a JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unisono.audio import load_audio, resample
from unisono.audio.io import SUPPORTED_SUFFIXES
from unisono.errors import UnisonoError
from unisono.metrics import METRIC_REGISTRY
from unisono.metrics.base import Metric, MetricValue, json_number
from unisono.metrics.embedding import (
    Classifier,
    Embedder,
    FrechetDistance,
    InceptionScore,
    KLDivergence,
)

ALIGN_MODES = ("strict", "trim")
Clip = tuple[np.ndarray, int]


def _files(folder: Path, suffixes: Sequence[str]) -> dict[str, Path]:
    """name (relative path without suffix, '/'-separated) -> file, for files with these suffixes."""
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in suffixes and not path.name.startswith("."):
            name = path.relative_to(folder).with_suffix("").as_posix()
            if name in files:
                raise UnisonoError(f"{files[name]} and {path} have the same name; keep one.")
            files[name] = path
    return files


def audio_files(folder: str | Path) -> dict[str, Path]:
    """The audio files under ``folder`` by name (see the module docstring), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UnisonoError(f"{folder} is not a folder: give a folder of audio files.")
    return _files(folder, SUPPORTED_SUFFIXES)


def build_metric(name: str, *, embedder: Embedder | None = None,
                 classifier: Classifier | None = None) -> Metric:
    """A fresh metric from `METRIC_REGISTRY`; FD / FAD get ``embedder``, KL / IS ``classifier``."""
    if name not in METRIC_REGISTRY:
        raise UnisonoError(f"unknown metric {name!r}; choose from: {', '.join(METRIC_REGISTRY)}.")
    metric_class = METRIC_REGISTRY[name]
    if issubclass(metric_class, FrechetDistance):
        return metric_class(embedder)
    if issubclass(metric_class, KLDivergence | InceptionScore):
        return metric_class(classifier)
    return metric_class()


def _pair(estimate: Clip, reference: Clip, *, trim: bool) -> tuple[np.ndarray, np.ndarray, int]:
    (est_audio, est_rate), (ref_audio, ref_rate) = estimate, reference
    est_audio = resample(est_audio, est_rate, ref_rate)
    if trim:
        length = min(est_audio.shape[0], ref_audio.shape[0])
        est_audio, ref_audio = est_audio[:length], ref_audio[:length]
    return est_audio, ref_audio, ref_rate


def _load(files: dict[str, Path], name: str) -> Clip | None:
    return load_audio(files[name]) if name in files else None


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _text(folder: Path, name: str, what: str) -> list[str]:
    path = folder / f"{name}.txt"
    if not path.is_file():
        raise UnisonoError(f"{path} not found: {what} are read from <name>.txt files.")
    lines = _lines(path)
    if not lines:
        raise UnisonoError(f"{path} is empty: it should hold {what}.")
    return lines


class _Run:
    """One scoring pass: feeds every clip once to every metric that reads it."""

    def __init__(self, generated: Path, reference: Path, metrics: dict[str, Metric], trim: bool,
                 source: Path | None = None):
        self.generated, self.reference = generated, reference
        self.metrics, self.trim = metrics, trim
        self.fed: dict[str, list[str]] = {name: [] for name in metrics}
        kinds = {metric.inputs for metric in metrics.values()}
        self.generated_audio = audio_files(generated) if kinds - {"captions"} else {}
        self.reference_audio = (audio_files(reference) if kinds & {"paired", "sets", "edited"}
                                else {})
        self.source_audio: dict[str, Path] = {}
        if kinds - {"captions"} and not self.generated_audio:
            raise UnisonoError(f"no audio files ({', '.join(SUPPORTED_SUFFIXES)}) in {generated}.")
        if "sets" in kinds and not self.reference_audio:
            raise UnisonoError(f"no audio files ({', '.join(SUPPORTED_SUFFIXES)}) in {reference}.")
        if kinds & {"paired", "edited"}:
            self._check_names(self.reference_audio, reference, "reference", "paired metrics")
        if "edited" in kinds:
            if source is None:
                names = ", ".join(n for n, m in metrics.items() if m.inputs == "edited")
                raise UnisonoError(f"{names} compares each output with its input: give the folder "
                                   "of inputs (--source DIR in `unisono score`).")
            self.source_audio = audio_files(source)
            self._check_names(self.source_audio, source, "input", "change energy")

    def _check_names(self, files: dict[str, Path], folder: Path, noun: str, who: str) -> None:
        missing = [n for n in self.generated_audio if n not in files]
        if missing:
            raise UnisonoError(
                f"{len(missing)} generated clip(s) have no {noun} of the same name in {folder} "
                f"(e.g. {', '.join(missing[:5])}); {who} need one each.")

    def _feed(self, name: str, stem: str, **inputs: Any) -> None:
        try:
            self.metrics[name].update(**inputs)
        except UnisonoError as error:
            raise UnisonoError(f"{name} on {stem!r}: {error}") from error
        self.fed[name].append(stem)

    def audio(self, progress: bool) -> None:
        by_kind = {kind: [n for n, m in self.metrics.items() if m.inputs == kind]
                   for kind in ("paired", "sets", "generated", "transcript", "edited")}
        stems = sorted(set(self.generated_audio) | set(self.reference_audio))
        if progress:
            from tqdm import tqdm

            stems = tqdm(stems, desc="scoring", unit="clip")
        for stem in stems:
            generated = _load(self.generated_audio, stem)
            reference = _load(self.reference_audio, stem)
            for name in by_kind["sets"]:
                for role, clip in (("estimate", generated), ("reference", reference)):
                    if clip is not None:
                        self._feed(name, stem, **{role: clip[0]}, sample_rate=clip[1])
            if generated is None:
                continue
            for name in by_kind["paired"]:
                assert reference is not None  # checked in __init__
                trim = self.trim and self.metrics[name].aligned
                estimate, target, rate = _pair(generated, reference, trim=trim)
                self._feed(name, stem, estimate=estimate, reference=target, sample_rate=rate)
            if by_kind["edited"]:
                assert reference is not None  # checked in __init__
                self._edited(by_kind["edited"], stem, generated, reference)
            for name in by_kind["generated"]:
                self._feed(name, stem, estimate=generated[0], sample_rate=generated[1])
            if by_kind["transcript"]:
                transcript = " ".join(_text(self.reference, stem, "transcripts"))
                for name in by_kind["transcript"]:
                    self._feed(name, stem, estimate=generated[0], sample_rate=generated[1],
                               transcript=transcript)

    def _edited(self, names: list[str], stem: str, generated: Clip, reference: Clip) -> None:
        """Feed the "edited" metrics one output with its reference and its input (read once)."""
        source_audio, source_rate = load_audio(self.source_audio[stem])
        source_audio = resample(source_audio, source_rate, reference[1])
        estimate, target, rate = _pair(generated, reference, trim=self.trim)
        if self.trim:
            length = min(target.shape[0], source_audio.shape[0])
            estimate, target, source_audio = estimate[:length], target[:length], source_audio[:length]
        elif source_audio.shape[0] != target.shape[0]:
            raise UnisonoError(f"{', '.join(names)} on {stem!r}: the input has "
                               f"{source_audio.shape[0]} samples and the reference "
                               f"{target.shape[0]}; use --align trim.")
        for name in names:
            self._feed(name, stem, estimate=estimate, reference=target, source=source_audio,
                       sample_rate=rate)

    def captions(self) -> None:
        names = [n for n, m in self.metrics.items() if m.inputs == "captions"]
        if not names:
            return
        candidates = _files(self.generated, (".txt",))
        if not candidates:
            raise UnisonoError(f"no caption files (<name>.txt) in {self.generated}.")
        for stem in candidates:
            candidate = _lines(candidates[stem])
            references = _text(self.reference, stem, "reference captions")
            for name in names:
                self._feed(name, stem, candidate=candidate[0] if candidate else "",
                           references=references)


def score_folders(generated_dir: str | Path, reference_dir: str | Path, metrics: Sequence[str], *,
                  align: str = "strict", embedder: Embedder | None = None,
                  classifier: Classifier | None = None, progress: bool = False,
                  source_dir: str | Path | None = None) -> dict[str, Any]:
    """Score the generated folder against the reference folder with the named metrics.

    Args:
        generated_dir: folder of generated clips (and/or captions).
        reference_dir: folder of reference clips (and/or transcripts, captions).
        metrics: names from `METRIC_REGISTRY`.
        align: "strict" (sample-by-sample metrics need equal lengths) or "trim" (cut to shorter).
        embedder: for FD / FAD; default aiSFX.
        classifier: for KL / IS; default aiSFX's UCS head.
        progress: show a progress bar on stderr.
        source_dir: folder of the transformations' inputs (change energy).

    Returns:
        {"metrics": {key: value}, "per_file": {metric: {name: value}}, "counts": {...}, ...};
        values are floats or "unavailable: <reason>" (per-file values: float or None).
    """
    if align not in ALIGN_MODES:
        raise UnisonoError(f"align must be one of {ALIGN_MODES}; got {align!r}.")
    names = list(dict.fromkeys(metrics))
    if not names:
        raise UnisonoError("name at least one metric.")
    built = {name: build_metric(name, embedder=embedder, classifier=classifier) for name in names}
    generated, reference = Path(generated_dir), Path(reference_dir)
    source = None if source_dir is None else Path(source_dir)
    for folder in (generated, reference, source):
        if folder is not None and not folder.is_dir():
            raise UnisonoError(f"{folder} is not a folder.")
    run = _Run(generated, reference, built, trim=align == "trim", source=source)
    run.audio(progress)
    run.captions()
    values: dict[str, MetricValue] = {}
    per_file: dict[str, dict[str, float | None]] = {}
    for name, metric in built.items():
        values.update(metric.compute())
        items = metric.item_values()
        if items is not None and len(items) == len(run.fed[name]):
            per_file[name] = {stem: json_number(v) for stem, v in zip(run.fed[name], items,
                                                                     strict=True)}
    used = {n: getattr(m, "_embedder", None) or getattr(m, "_classifier", None)
            for n, m in built.items()}
    return {
        "generated_dir": str(generated),
        "reference_dir": str(reference),
        "source_dir": None if source is None else str(source),
        "metrics": values,
        "counts": {"generated_clips": len(run.generated_audio),
                   "reference_clips": len(run.reference_audio),
                   "clips_scored": {name: len(stems) for name, stems in run.fed.items()}},
        "models": {n: getattr(model, "name", type(model).__name__) for n, model in used.items()
                   if model is not None},
        "align": align,
        "per_file": per_file,
    }

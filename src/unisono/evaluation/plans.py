"""What each task is scored with: metric specifications and the per-task plans.

A `MetricSpec` says how to build a metric (from `unisono.metrics` or the oracle checks of
`unisono.evaluation.oracles`, with the reference models it needs), which report columns it
fills, and what it reads from each example and row output (`feed`). `TASK_METRICS` lists the
specs of every task; `rows_of` the rows its report has:

- "model": the model's outputs (one row per step count when several are asked for);
- "ground truth": the real target clips scored the same way. A metric comparing an output with
  its own target (LSD, SI-SDR, KL, F0, ...) would compare the target with itself, so there it is
  "unavailable" and the codec row stands in; FD / FAD compare the targets with other clips of the
  manifest (another sample of the same distribution); captions are one reference caption against
  the others;
- "codec round trip": the targets encoded and decoded by the model's codec, the ceiling of any
  output decoded from latents;
- "input": for transformation tasks, the untouched source (the do-nothing baseline).

Shapes: S samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unisono.evaluation.examples import EvalExample
from unisono.evaluation.oracles import (
    ClapScore,
    DurationError,
    EventPresence,
    ExactMatch,
    KeyAccuracy,
    MedianPitchError,
    OnsetError,
    PitchClassSimilarity,
    TagAccuracy,
    Unavailable,
)
from unisono.evaluation.references import ReferenceModels, TagClassifier
from unisono.evaluation.running import TEXT_TASKS, TRANSFORM_TASKS
from unisono.metrics import (
    Bleu,
    ChangeEnergy,
    CiderD,
    Dnsmos,
    F0Metrics,
    FrechetAudioDistance,
    FrechetDistance,
    InceptionScore,
    KLDivergence,
    LogMelL1,
    LogSpectralDistance,
    Meteor,
    Metric,
    Pesq,
    RougeL,
    ScaleInvariantSDR,
    SpeakerSimilarity,
    SpeechRemovalRate,
    Stoi,
    WordErrorRate,
)
from unisono.metrics.base import missing_package

MODEL_ROW = "model"
TRUTH_ROW = "ground truth"
CODEC_ROW = "codec round trip"
INPUT_ROW = "input"
ROW_NOTES = {
    MODEL_ROW: "the model's outputs",
    TRUTH_ROW: "the real target clips scored the same way (FD / FAD: against other clips of the "
               "manifest; captions: one reference caption against the others)",
    CODEC_ROW: "the targets through the model's codec (encode + decode): the ceiling of decoded "
               "audio",
    INPUT_ROW: "the untouched input (the do-nothing baseline of a transformation)",
}


@dataclass
class RowItem:
    """One row's output for one example.

    Attributes:
        audio: the clip compared with the target (cloning: the continuation only).
        spoken: the whole utterance a transcript is checked on (cloning: prompt + continuation).
        text: a text answer (captioning, questions).
        references: reference captions, when the row replaces the example's (ground truth).
        predicted_duration: the duration predictor's seconds for the instruction (model rows).
    """

    audio: np.ndarray | None = None
    spoken: np.ndarray | None = None
    text: str | None = None
    references: list[str] | None = None
    predicted_duration: float | None = None


Feed = Callable[[Metric, RowItem, EvalExample], None]


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is built and fed.

    Attributes:
        name: the spec's name in `TASK_METRICS`.
        keys: the report columns it fills.
        build: the metric from the reference models.
        feed: adds one example's row output (None for set metrics, fed by the scorer).
        compares_target: compares an output with its own target (meaningless on ground truth).
        model_only: describes the model itself (the duration predictor), not audio.
        sets: FD / FAD: every output against a reference set.
    """

    name: str
    keys: tuple[str, ...]
    build: Callable[[ReferenceModels], Metric]
    feed: Feed | None = None
    compares_target: bool = False
    model_only: bool = False
    sets: bool = False


def compared_target(example: EvalExample) -> np.ndarray:
    """The part of the target an output is compared with (after a cloning prompt)."""
    return example.target[example.prefix_samples:]


def _pair(metric: Metric, item: RowItem, example: EvalExample) -> None:
    target = compared_target(example)
    length = min(item.audio.shape[0], target.shape[0])
    if metric.aligned:
        metric.update(estimate=item.audio[:length], reference=target[:length],
                      sample_rate=example.sample_rate)
    else:
        metric.update(estimate=item.audio, reference=target, sample_rate=example.sample_rate)


def _edited(metric: Metric, item: RowItem, example: EvalExample) -> None:
    """A transformation's output with its target and its input, cut to the shortest."""
    assert example.source is not None  # only transformation tasks use this feed
    target = compared_target(example)
    length = min(item.audio.shape[0], target.shape[0], example.source.shape[0])
    metric.update(estimate=item.audio[:length], reference=target[:length],
                  source=example.source[:length], sample_rate=example.sample_rate)


def _generated(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(estimate=item.audio, sample_rate=example.sample_rate)


def _generated_full_scale(metric: Metric, item: RowItem, example: EvalExample) -> None:
    """As `_generated`, with a clip that peaks above full scale scaled down to it, as writing it to a
    16-bit file would need (a model's output is not clipped to [-1, 1]; DNSMOS refuses beyond it)."""
    metric.update(estimate=within_full_scale(item.audio), sample_rate=example.sample_rate)


def within_full_scale(audio: np.ndarray) -> np.ndarray:
    """`audio` scaled to peak 1 if it peaks above 1, else unchanged."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio / peak if peak > 1.0 else audio


def _transcript(metric: Metric, item: RowItem, example: EvalExample) -> None:
    if example.transcript and example.transcript.strip():
        spoken = item.spoken if item.spoken is not None else item.audio
        metric.update(estimate=spoken, sample_rate=example.sample_rate,
                      transcript=example.transcript)


def _prompt_voice(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(estimate=item.audio, reference=example.target[:example.prefix_samples],
                  sample_rate=example.sample_rate)


def _tag(field: str) -> Feed:
    def feed(metric: Metric, item: RowItem, example: EvalExample) -> None:
        metric.update(estimate=item.audio, sample_rate=example.sample_rate,
                      label=getattr(example, field),
                      ignore=example.ignore if field == "label" else ())
    return feed


def _classes(field: str) -> Feed:
    def feed(metric: Metric, item: RowItem, example: EvalExample) -> None:
        metric.update(estimate=item.audio, sample_rate=example.sample_rate,
                      classes=getattr(example, field))
    return feed


def _span_presence(metric: Metric, item: RowItem, example: EvalExample) -> None:
    rate = example.sample_rate
    for classes, onset, offset in example.spans:
        crop = item.audio[int(onset * rate):max(int(offset * rate), int(onset * rate) + 1)]
        if crop.size:
            metric.update(estimate=crop, sample_rate=rate, classes=classes)


def _clap(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(estimate=item.audio, sample_rate=example.sample_rate,
                  text=example.caption or example.instruction)


def _onsets(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(estimate=item.audio, sample_rate=example.sample_rate,
                  onsets=[onset for _, onset, _ in example.spans])


def _key(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(estimate=item.audio, sample_rate=example.sample_rate, key=example.key,
                  mode=example.mode)


def _notes(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(estimate=item.audio, sample_rate=example.sample_rate, notes=example.notes)


def _duration(metric: Metric, item: RowItem, example: EvalExample) -> None:
    if item.predicted_duration is not None:
        metric.update(predicted=item.predicted_duration, actual=example.duration)


def _captions(metric: Metric, item: RowItem, example: EvalExample) -> None:
    references = item.references if item.references is not None else example.captions
    metric.update(candidate=item.text or "", references=references)


def _answer(metric: Metric, item: RowItem, example: EvalExample) -> None:
    metric.update(candidate=item.text or "", answer=example.answer or "")


def _tagger(build: Callable[..., Metric], **options: object) -> Callable[[ReferenceModels], Metric]:
    return lambda refs: build(refs.tagger, missing=refs.reason("tagger"), **options)


def _classifier(metric_class: type[Metric], head: str) -> Callable[[ReferenceModels], Metric]:
    def build(refs: ReferenceModels) -> Metric:
        if refs.tagger is None:
            return Unavailable(missing=f"{metric_class.name} reads the tagger's {head} head: "
                                     f"{refs.reason('tagger')}")
        return metric_class(TagClassifier(refs.tagger, head))
    return build


def _frechet(metric_class: type[FrechetDistance]) -> Callable[[ReferenceModels], Metric]:
    def build(refs: ReferenceModels) -> Metric:
        if refs.embedder is None:
            return Unavailable(missing=f"{metric_class.name} needs the aiSFX embedder: "
                                     f"{refs.reason('embedder')}")
        return metric_class(refs.embedder)
    return build


def _f0_median(refs: ReferenceModels) -> Metric:
    return MedianPitchError(missing=missing_package("swift_f0", "pip install 'unisono[eval]'"))


def _spec(name: str, keys: tuple[str, ...], build: Callable[[ReferenceModels], Metric],
          feed: Feed | None = None, **flags: bool) -> MetricSpec:
    return MetricSpec(name, keys, build, feed, **flags)


SPECS: dict[str, MetricSpec] = {spec.name: spec for spec in (
    _spec("fd", ("fd",), _frechet(FrechetDistance), sets=True),
    _spec("fad", ("fad",), _frechet(FrechetAudioDistance), sets=True),
    _spec("kl", ("kl",), _classifier(KLDivergence, "event"), _pair, compares_target=True),
    _spec("is", ("is",), _classifier(InceptionScore, "event"), _generated),
    _spec("kl_instrument", ("kl",), _classifier(KLDivergence, "instrument"), _pair,
          compares_target=True),
    _spec("is_instrument", ("is",), _classifier(InceptionScore, "instrument"), _generated),
    _spec("class_accuracy", ("class_accuracy",),
          _tagger(TagAccuracy, head="event", name="class_accuracy"), _tag("label")),
    _spec("gender_accuracy", ("gender_accuracy",),
          _tagger(TagAccuracy, head="gender", name="gender_accuracy"), _tag("gender")),
    _spec("instrument_accuracy", ("instrument_accuracy",),
          _tagger(TagAccuracy, head="instrument", name="instrument_accuracy"),
          _tag("instrument")),
    _spec("event_presence", ("event_presence",), _tagger(EventPresence), _classes("present")),
    _spec("event_absence", ("event_absence",), _tagger(EventPresence, absent=True),
          _classes("absent")),
    _spec("span_presence", ("event_presence",), _tagger(EventPresence), _span_presence),
    _spec("clap_score", ("clap_score",),
          lambda refs: ClapScore(refs.clap, missing=refs.reason("clap")), _clap),
    _spec("onset_error", ("onset_error_s",), lambda refs: OnsetError(), _onsets),
    _spec("key_accuracy", ("key_accuracy",), lambda refs: KeyAccuracy(), _key),
    _spec("pitch_class_similarity", ("pitch_class_similarity",),
          lambda refs: PitchClassSimilarity(), _notes),
    _spec("median_f0_error", ("median_f0_error_semitones",), _f0_median, _pair,
          compares_target=True),
    _spec("duration_error", ("duration_error_s",), lambda refs: DurationError(), _duration,
          model_only=True),
    _spec("wer", ("wer", "cer"), lambda refs: WordErrorRate(refs.transcriber), _transcript),
    _spec("speech_removal_rate", ("speech_removal_rate",),
          lambda refs: SpeechRemovalRate(refs.transcriber), _generated),
    _spec("speaker_similarity", ("speaker_similarity",), lambda refs: SpeakerSimilarity(), _pair,
          compares_target=True),
    _spec("prompt_speaker_similarity", ("speaker_similarity",), lambda refs: SpeakerSimilarity(),
          _prompt_voice),
    _spec("lsd", ("lsd",), lambda refs: LogSpectralDistance(), _pair, compares_target=True),
    _spec("si_sdr", ("si_sdr",), lambda refs: ScaleInvariantSDR(), _pair, compares_target=True),
    _spec("log_mel_l1", ("log_mel_l1",), lambda refs: LogMelL1(), _pair, compares_target=True),
    _spec("change_energy", ChangeEnergy.KEYS, lambda refs: ChangeEnergy(), _edited),
    _spec("pesq", ("pesq",), lambda refs: Pesq(), _pair, compares_target=True),
    _spec("stoi", ("stoi",), lambda refs: Stoi(), _pair, compares_target=True),
    _spec("dnsmos", tuple(Dnsmos.KEYS), lambda refs: Dnsmos(), _generated_full_scale),
    _spec("f0", ("f0_rmse_cents", "semitone_accuracy"), lambda refs: F0Metrics(), _pair,
          compares_target=True),
    _spec("bleu", Bleu.keys, lambda refs: Bleu(), _captions),
    _spec("meteor", Meteor.keys, lambda refs: Meteor(), _captions),
    _spec("rouge_l", RougeL.keys, lambda refs: RougeL(), _captions),
    _spec("cider_d", CiderD.keys, lambda refs: CiderD(), _captions),
    _spec("accuracy", ("accuracy",), lambda refs: ExactMatch(), _answer),
)}

_EDIT = ("lsd", "si_sdr", "log_mel_l1", "change_energy")
_CLONE = ("wer", "prompt_speaker_similarity", "gender_accuracy")
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "t2a": ("fd", "fad", "kl", "is", "class_accuracy", "event_presence", "clap_score",
            "duration_error"),
    "t2m": ("fd", "fad", "kl_instrument", "is_instrument", "instrument_accuracy", "key_accuracy",
            "pitch_class_similarity", "clap_score", "duration_error"),
    "timed": ("onset_error", "span_presence", "clap_score"),
    "tts": ("wer", "gender_accuracy", "speaker_similarity"),
    "tts_aligned": ("wer", "gender_accuracy", "speaker_similarity", "log_mel_l1"),
    "tts_clone": _CLONE,
    "tts_clone_masked": _CLONE,
    "tts_styled": ("wer", "gender_accuracy", "median_f0_error"),
    "t2as": ("wer", "event_presence", "gender_accuracy", "clap_score"),
    "svs": ("f0", "gender_accuracy", "log_mel_l1"),
    "edit_add": ("event_presence", *_EDIT),
    "edit_remove": ("event_absence", *_EDIT),
    "edit_replace": ("event_presence", "event_absence", *_EDIT),
    "edit_extract": ("event_presence", *_EDIT),
    "edit_restyle": ("instrument_accuracy", "f0", "lsd"),
    "speech_insert": ("wer", "gender_accuracy", "lsd", "si_sdr"),
    "speech_delete": ("speech_removal_rate", "lsd", "si_sdr", "change_energy"),
    "speech_rewrite": ("wer", "speaker_similarity", "lsd", "si_sdr"),
    "se": ("pesq", "stoi", "dnsmos", "si_sdr", "change_energy"),
    "sr": ("lsd", "log_mel_l1", "change_energy"),
    "caption": ("bleu", "meteor", "rouge_l", "cider_d"),
    "question": ("accuracy",),
}


def task_specs(task: str) -> list[MetricSpec]:
    """The metric specs of a task, in report order."""
    return [SPECS[name] for name in TASK_METRICS[task]]


def task_keys(task: str) -> list[str]:
    """The report columns of a task, in order."""
    return list(dict.fromkeys(key for spec in task_specs(task) for key in spec.keys))


def rows_of(task: str, model_rows: list[str]) -> list[str]:
    """The rows of a task's report: the model rows, then the reference rows that apply."""
    rows = [*model_rows, TRUTH_ROW]
    if task not in TEXT_TASKS:
        rows.append(CODEC_ROW)
    if task in TRANSFORM_TASKS:
        rows.append(INPUT_ROW)
    return rows

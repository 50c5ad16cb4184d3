"""Metric objects: the update / compute / reset contract, input checks, "unavailable" values."""

import sys

import numpy as np
import pytest

from unisono.errors import UnisonoError
from unisono.metrics import (
    METRIC_REGISTRY,
    SI_SDR_CAP_DB,
    LogMelL1,
    LogSpectralDistance,
    Pesq,
    ScaleInvariantSDR,
    is_unavailable,
    log_spectral_distance,
)

SR = 16000


@pytest.fixture
def clips() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(0.1 * rng.standard_normal(SR)).astype(np.float32) for _ in range(3)]


def test_identical_signals_give_zero_and_the_cap(clips):
    lsd, sdr, mel = LogSpectralDistance(), ScaleInvariantSDR(), LogMelL1()
    for clip in clips:
        for metric in (lsd, sdr, mel):
            metric.update(estimate=clip, reference=clip, sample_rate=SR)
    assert lsd.compute() == {"lsd": 0.0}
    assert mel.compute() == {"log_mel_l1": 0.0}
    assert sdr.compute() == {"si_sdr": SI_SDR_CAP_DB}


def test_paired_metric_is_the_mean_of_the_pure_function_and_resets(clips):
    metric = LogSpectralDistance()
    pairs = [(clips[0], clips[1]), (clips[1], 0.5 * clips[1]), (clips[2], clips[0])]
    for reference, estimate in pairs:
        metric.update(estimate=estimate, reference=reference, sample_rate=SR)
    expected = np.mean([log_spectral_distance(r, e) for r, e in pairs])
    assert metric.compute()["lsd"] == pytest.approx(expected, rel=1e-12)
    assert metric.item_values() == pytest.approx([log_spectral_distance(r, e) for r, e in pairs])
    metric.reset()
    with pytest.raises(UnisonoError, match="no clips"):
        metric.compute()


AUDIO_INPUTS = [name for name, cls in METRIC_REGISTRY.items() if cls.inputs != "captions"]


def _feed(metric, audio, other=None):
    other = audio if other is None else other
    if metric.inputs == "paired":
        metric.update(estimate=audio, reference=other, sample_rate=SR)
    elif metric.inputs == "sets":
        metric.update(estimate=audio, reference=other, sample_rate=SR)
    elif metric.inputs == "generated":
        metric.update(estimate=audio, sample_rate=SR)
    else:
        metric.update(estimate=audio, sample_rate=SR, transcript="hello world")


@pytest.mark.parametrize("name", AUDIO_INPUTS)
def test_bad_audio_is_a_clear_error(name, clips):
    metric = METRIC_REGISTRY[name]()
    bad = clips[0].copy()
    bad[100] = np.nan
    with pytest.raises(UnisonoError, match="NaN"):
        _feed(metric, bad, clips[0])
    with pytest.raises(UnisonoError, match="empty"):
        _feed(metric, clips[0][:0], clips[0])
    with pytest.raises(UnisonoError, match="mono"):
        _feed(metric, np.stack([clips[0], clips[0]], axis=1), clips[0])
    with pytest.raises(UnisonoError, match="sample_rate"):
        metric.update(**{"estimate": clips[0], "sample_rate": 0,
                         **({"reference": clips[0]} if metric.inputs in ("paired", "sets") else {}),
                         **({"transcript": "hi"} if metric.inputs == "transcript" else {})})


@pytest.mark.parametrize("name", [n for n in AUDIO_INPUTS if METRIC_REGISTRY[n].aligned])
def test_sample_by_sample_metrics_refuse_a_length_mismatch(name, clips):
    with pytest.raises(UnisonoError, match="lengths differ"):
        METRIC_REGISTRY[name]().update(estimate=clips[0][:-1], reference=clips[0], sample_rate=SR)


def test_missing_package_is_reported_as_unavailable_not_a_number(monkeypatch, clips):
    monkeypatch.setitem(sys.modules, "pesq", None)  # import pesq now raises ImportError
    metric = Pesq()
    metric.update(estimate=clips[0], reference=clips[0], sample_rate=SR)
    value = metric.compute()["pesq"]
    assert is_unavailable(value) and "pesq" in value and "pip install" in value


def test_registry_names_are_the_metric_names():
    for name, metric_class in METRIC_REGISTRY.items():
        assert metric_class.name == name
        assert metric_class.inputs in ("paired", "sets", "generated", "transcript", "captions")
        assert metric_class.description

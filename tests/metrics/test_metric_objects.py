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
from unisono.metrics.base import INPUT_KINDS

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
    elif metric.inputs == "edited":
        metric.update(estimate=audio, reference=other, source=other, sample_rate=SR)
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
                         **({"reference": clips[0]} if metric.inputs in ("paired", "sets", "edited")
                            else {}),
                         **({"source": clips[0]} if metric.inputs == "edited" else {}),
                         **({"transcript": "hi"} if metric.inputs == "transcript" else {})})


@pytest.mark.parametrize("name", [n for n in AUDIO_INPUTS if METRIC_REGISTRY[n].aligned])
def test_sample_by_sample_metrics_refuse_a_length_mismatch(name, clips):
    with pytest.raises(UnisonoError, match="lengths differ"):
        _feed(METRIC_REGISTRY[name](), clips[0][:-1], clips[0])


def test_missing_package_is_reported_as_unavailable_not_a_number(monkeypatch, clips):
    monkeypatch.setitem(sys.modules, "pesq", None)  # import pesq now raises ImportError
    metric = Pesq()
    metric.update(estimate=clips[0], reference=clips[0], sample_rate=SR)
    value = metric.compute()["pesq"]
    assert is_unavailable(value) and "pesq" in value and "pip install" in value


def test_registry_names_are_the_metric_names():
    for name, metric_class in METRIC_REGISTRY.items():
        assert metric_class.name == name
        assert metric_class.inputs in INPUT_KINDS
        assert metric_class.description


def test_change_energy_object_averages_the_pairs_that_have_such_cells():
    from unisono.metrics import ChangeEnergy, change_energy

    t = np.arange(2 * SR) / SR
    bed = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    fade_in = np.clip(t - 1.0, 0.0, 1.0)  # no click: a click would touch every band
    event = (0.3 * np.sin(2 * np.pi * 3000 * t) * np.sin(np.pi * fade_in) ** 2).astype(np.float32)
    metric = ChangeEnergy()
    removal = (bed + event, bed, bed + 0.5 * event)  # source, target, output
    addition = (bed, bed + event, bed)
    for source, target, output in (removal, addition):
        metric.update(estimate=output, reference=target, source=source, sample_rate=SR)
    values = metric.compute()
    pairs = [change_energy(*pair, SR) for pair in (removal, addition)]
    assert np.isnan(pairs[0]["added_db"]) and np.isnan(pairs[1]["removed_db"])
    for key in ("removed_db", "added_db", "kept_db", "kept_level_db"):
        assert values[key] == pytest.approx(np.nanmean([pair[key] for pair in pairs]))
    assert values["added_db"] == pytest.approx(0.0, abs=1e-9)  # the addition's output is its input
    only_removals = ChangeEnergy()
    only_removals.update(estimate=bed, reference=bed, source=bed + event, sample_rate=SR)
    assert is_unavailable(only_removals.compute()["added_db"])

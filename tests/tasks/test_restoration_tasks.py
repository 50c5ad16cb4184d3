"""Restoration tasks: se pairs align sample for sample around the untouched clean clip, sr sources
hold nothing above their cutoff, recipes use no guidance, and bad pools fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from task_fixtures import RATE, folder_pool, world_pool

from unisono.data.clips import load_clip
from unisono.errors import UnisonoError
from unisono.tasks import TAG_TRANSFORM, TASKS, ClipPool, get_task
from unisono.tasks.restoration import SR_KINDS, clean_clip
from unisono.world.pairs import superres_pair

SEEDS = range(5)


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> ClipPool:
    return world_pool(tmp_path_factory)


def test_registry_entries() -> None:
    for name in ("se", "sr"):
        task = TASKS[name]
        assert task.family == "restoration" and task.recipe.cfg == 1.0 and task.time_aligned
        assert len(set(task.templates)) >= 10 and not task.uses_latent_cache


@pytest.mark.parametrize("seed", SEEDS)
def test_se_pairs_align_sample_for_sample_around_the_clean_clip(pool, seed) -> None:
    example = get_task("se").build(pool, np.random.default_rng([seed, 1]))
    clean, noisy = example.target, example.source
    assert clean.shape == noisy.shape and example.source_tag == TAG_TRANSFORM
    speech = [load_clip(pool, e) for e in pool.entries if e.kind == "speech"]
    assert any(np.array_equal(clean, clip) for clip in speech)  # the target is the clip as is
    correlation = scipy.signal.correlate(noisy.astype(np.float64), clean, mode="full",
                                         method="fft")
    assert int(np.argmax(np.abs(correlation))) - (clean.shape[0] - 1) == 0
    residual = noisy - clean
    snr = 10 * np.log10(np.sum(clean.astype(np.float64) ** 2) / np.sum(residual ** 2))
    assert -8.0 < snr < 21.0  # noise at -5..20 dB SNR (plus reverb, minus the peak guard)
    assert example.duration == pytest.approx(clean.shape[0] / RATE)


def _energy_above(audio: np.ndarray, cutoff: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[0], d=1.0 / RATE)
    return float(spectrum[freqs > cutoff].sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_sr_sources_have_no_energy_above_the_cutoff(pool, seed) -> None:
    example = get_task("sr").build(pool, np.random.default_rng([seed, 1]))
    rng = np.random.default_rng([seed, 1])  # replay the builder's draws to learn the cutoff
    full = clean_clip("sr", SR_KINDS, pool, rng)
    band_limited, params = superres_pair(full, RATE, rng)
    assert np.array_equal(example.target, full) and np.array_equal(example.source, band_limited)
    cutoff = params["cutoff_hz"]
    assert 2000.0 <= cutoff <= 6000.0
    total = float(np.sum(example.source.astype(np.float64) ** 2)) * example.source.shape[0]
    above = _energy_above(example.source, cutoff * 1.001)
    assert 10 * np.log10(above / total + 1e-30) < -60.0
    target_above = _energy_above(example.target, cutoff * 1.001)
    assert target_above > 1e4 * above  # the target really has the band the source lacks


@pytest.mark.parametrize("name", ("se", "sr"))
def test_same_seed_gives_the_same_pair(pool, name) -> None:
    build = get_task(name).build
    first, again = (build(pool, np.random.default_rng([4, 2])) for _ in range(2))
    assert first.instruction == again.instruction
    assert first.source.tobytes() == again.source.tobytes()
    assert first.target.tobytes() == again.target.tobytes()
    assert build(pool, np.random.default_rng([5, 2])).source.tobytes() != first.source.tobytes()


def test_long_clips_give_a_window_of_max_seconds(tmp_path_factory) -> None:
    short_pool = world_pool(tmp_path_factory, max_seconds=1.5)
    for seed in range(4):
        example = get_task("sr").build(short_pool, np.random.default_rng(seed))
        assert example.target.shape[0] <= int(1.5 * RATE)
        assert example.source.shape == example.target.shape


def test_folder_import_works_for_sr_and_se_names_the_missing_speech(tmp_path) -> None:
    pool = folder_pool(tmp_path)
    example = get_task("sr").build(pool, np.random.default_rng(0))
    assert example.source.shape == example.target.shape
    with pytest.raises(UnisonoError, match="task se needs at least 1 speech clips"):
        get_task("se").build(pool, np.random.default_rng(0))
    pool.sample_rate = 0
    with pytest.raises(UnisonoError, match="codec.sample_rate"):
        get_task("sr").build(pool, np.random.default_rng(0))

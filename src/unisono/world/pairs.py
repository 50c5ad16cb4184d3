"""Degraded/clean pairs the world makes exactly: speech enhancement and super-resolution.

`enhancement_pair` reverberates a clean clip with a synthetic room and adds a noise background at a
random SNR; `superres_pair` band-limits a clip at a random 2-6 kHz cutoff. Both return the degraded
audio and the parameters used, drawn from an explicit generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unisono.audio import lowpass, mix_at_snr, reverberate, synthetic_rir

ENHANCEMENT_NOISES = ("white noise", "pink noise", "brown noise", "rain", "wind", "room tone", "traffic")
SNR_RANGE_DB = (-5.0, 20.0)
RT60_RANGE = (0.2, 1.0)
CUTOFF_RANGE_HZ = (2000.0, 6000.0)


def enhancement_pair(clean: np.ndarray, sample_rate: int, rng: np.random.Generator, *,
                     reverb_probability: float = 0.5) -> tuple[np.ndarray, dict[str, Any]]:
    """Noisy (and maybe reverberant) version of `clean`; the target is `clean` itself."""
    from unisono.world import backgrounds

    params: dict[str, Any] = {}
    degraded = clean.astype(np.float32)
    if rng.random() < reverb_probability:
        rt60 = float(rng.uniform(*RT60_RANGE))
        degraded = reverberate(degraded, synthetic_rir(rng, sample_rate, rt60=rt60))
        params["rt60"] = round(rt60, 3)
    names = [n for n in ENHANCEMENT_NOISES if n in backgrounds.BACKGROUNDS]
    noise_name = names[int(rng.integers(len(names)))]
    noise = backgrounds.render_background(noise_name, seed=int(rng.integers(2**31 - 1)),
                                          duration=clean.shape[0] / sample_rate, sample_rate=sample_rate)
    snr = float(rng.uniform(*SNR_RANGE_DB))
    degraded, _ = mix_at_snr(degraded, noise, snr)
    peak = float(np.max(np.abs(degraded)))
    if peak > 0.99:
        degraded = degraded * (0.99 / peak)
        params["gain"] = round(0.99 / peak, 4)
    params.update(noise=noise_name, snr_db=round(snr, 2))
    return degraded.astype(np.float32), params


def superres_pair(audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """Band-limited version of `audio` (no energy above the cutoff); the target is `audio`."""
    cutoff = float(rng.uniform(*CUTOFF_RANGE_HZ))
    cutoff = min(cutoff, 0.45 * sample_rate)
    return lowpass(audio, sample_rate, cutoff), {"cutoff_hz": round(cutoff, 1)}

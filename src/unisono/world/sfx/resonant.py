"""Struck resonant objects by modal synthesis: church bell, gong, cowbell, wind chimes, marimba,
bicycle bell.

Each sound is a sum of exponentially decaying modes whose frequency ratios follow the physics of
the object (bell partials, free bars, plates). Synth signature:
`synth(rng, *, duration, sample_rate, variant, count) -> (S,)`.
"""

from __future__ import annotations

import numpy as np

from unisono.world.sfx.synth import (
    N_VARIANTS,
    Variation,
    add_at,
    bandpass,
    exp_decay,
    modal,
    n_samples,
    repeat,
    white,
)

CHURCH_BELL_PRIME_HZ = (160.0, 420.0)
MARIMBA_HZ = (130.0, 600.0)

# Partials of a tuned church bell relative to the prime: hum, prime, tierce (minor third), quint,
# nominal and upper partials (Rossing, "The Science of Sound", ch. 13).
_BELL_RATIOS = (0.5, 1.0, 1.183, 1.506, 2.0, 2.514, 2.662, 3.011, 4.166, 5.433)
_BELL_AMPS = (0.55, 0.7, 0.8, 0.35, 1.0, 0.45, 0.35, 0.3, 0.2, 0.12)
_BELL_DECAY = (1.0, 0.7, 0.55, 0.45, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1)


def church_bell(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Large tuned bell tolling: low inharmonic partials with a long, beating decay."""
    vary = Variation(rng, variant, N_VARIANTS)
    prime = vary.log_uniform(*CHURCH_BELL_PRIME_HZ)
    t60 = vary.uniform(3.0, 7.0)
    # Slight mode splitting (a real bell is not perfectly symmetric) gives the typical beating.
    split = 1.0 + rng.uniform(0.0005, 0.002)

    def toll(index: int, room: float) -> np.ndarray:
        n = max(int(max(room, 0.2) * 1.6 * sample_rate), 1)
        freqs = [prime * r for r in _BELL_RATIOS] + [prime * r * split for r in _BELL_RATIOS[:5]]
        t60s = [t60 * d for d in _BELL_DECAY] + [t60 * d for d in _BELL_DECAY[:5]]
        amps = list(_BELL_AMPS) + [0.5 * a for a in _BELL_AMPS[:5]]
        strike = bandpass(white(rng, n), sample_rate, 1500.0, 6000.0) * exp_decay(n, sample_rate, 0.03)
        return modal(n, sample_rate, freqs, t60s, amps) + 0.3 * strike

    return repeat(rng, count, duration, sample_rate, toll, jitter=0.05)


def gong(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Tam-tam: a soft mallet stroke exciting dense inharmonic plate modes that bloom and shimmer."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    fundamental = vary.log_uniform(55.0, 140.0)
    t60 = max(vary.uniform(4.0, 9.0), 1.5 * duration)
    n_modes = 28
    ratios = np.sort(np.concatenate([[1.0], rng.uniform(1.3, 30.0, n_modes - 1)]))
    freqs = fundamental * ratios
    amps = rng.uniform(0.3, 1.0, n_modes) / ratios**0.35
    t60s = t60 * ratios**-0.25 * rng.uniform(0.7, 1.3, n_modes)
    body = modal(n, sample_rate, freqs, t60s, amps)
    # Energy moves upward after the stroke ("bloom"): high modes swell over the first second.
    t = np.arange(n) / sample_rate
    bloom = bandpass(body, sample_rate, 800.0, 5000.0) * (1.0 - np.exp(-t / 0.6)) * 2.0
    mallet = bandpass(white(rng, n), sample_rate, 60.0, 400.0) * exp_decay(n, sample_rate, 0.08)
    return body + bloom + 0.5 * mallet


def cowbell(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Cowbell: two strong clanging modes (near 540 and 800 Hz) with a short hollow decay."""
    vary = Variation(rng, variant, N_VARIANTS)
    low = vary.log_uniform(420.0, 700.0)
    ratio = vary.uniform(1.42, 1.55)
    t60 = vary.uniform(0.3, 0.8)

    def clank(index: int, room: float) -> np.ndarray:
        n = max(int(min(t60 * 1.2, room) * sample_rate), 1)
        freqs = [low, low * ratio, low * 2.02, low * ratio * 2.0, low * 3.1]
        partials = modal(n, sample_rate, freqs, [t60, t60 * 0.8, t60 * 0.3, t60 * 0.25, t60 * 0.15],
                         [1.0, 0.9, 0.4, 0.3, 0.2])
        hit = bandpass(white(rng, n), sample_rate, 2000.0, 7000.0) * exp_decay(n, sample_rate, 0.01)
        return np.tanh(1.5 * partials) + 0.3 * hit

    return repeat(rng, count, duration, sample_rate, clank)


def wind_chimes(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Metal tubes of a pentatonic set struck at random by the wind, ringing over each other."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    root = vary.log_uniform(700.0, 1400.0)
    rate = vary.uniform(3.0, 9.0)
    t60 = vary.uniform(1.5, 3.5)
    pentatonic = np.array([0, 2, 4, 7, 9, 12, 14, 16])
    tubes = root * 2.0 ** (pentatonic / 12.0)
    ring = min(n, int(t60 * sample_rate))
    grains = [
        modal(ring, sample_rate, [f, 2.756 * f, 5.404 * f], [t60, t60 * 0.4, t60 * 0.15],
              [1.0, 0.3, 0.1])
        for f in tubes
    ]
    out = np.zeros(n)
    onset = 0.0
    while onset < duration * 0.97:
        add_at(out, grains[int(rng.integers(len(grains)))], int(onset * sample_rate),
               rng.uniform(0.3, 1.0))
        onset += rng.exponential(1.0 / rate)
    return out


def marimba(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Marimba / xylophone hits: wooden bars tuned so the 4th partial is two octaves up."""
    vary = Variation(rng, variant, N_VARIANTS)
    low_note = vary.log_uniform(MARIMBA_HZ[0], MARIMBA_HZ[1] / 2.0)
    t60 = vary.uniform(0.25, 0.8)
    major = np.array([0, 2, 4, 5, 7, 9, 11, 12])

    def hit(index: int, room: float) -> np.ndarray:
        freq = low_note * 2.0 ** (major[int(rng.integers(len(major)))] / 12.0)
        n = max(int(min(t60 * 1.3, room + 0.2) * sample_rate), 1)
        bar = modal(n, sample_rate, [freq, 3.93 * freq, 9.2 * freq], [t60, t60 * 0.3, t60 * 0.08],
                    [1.0, 0.25, 0.08])
        # The rubber mallet's dull knock on the wood is part of the marimba's character.
        mallet = bandpass(white(rng, n), sample_rate, 200.0, 1500.0) * exp_decay(n, sample_rate, 0.015)
        return bar + 0.3 * mallet / (np.max(np.abs(mallet)) + 1e-12)

    return repeat(rng, count, duration, sample_rate, hit)


def bicycle_bell(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Thumb-lever bicycle bell: each ring is a quick trill of strikes on a small bright dome."""
    vary = Variation(rng, variant, N_VARIANTS)
    freq = vary.log_uniform(2200.0, 4200.0)
    trill_hz = vary.uniform(14.0, 24.0)
    strikes = int(rng.integers(3, 6))
    t60 = vary.uniform(0.6, 1.2)

    def ring(index: int, room: float) -> np.ndarray:
        n = max(int((room + 0.3) * sample_rate), 1)
        dome = modal(n, sample_rate, [freq, 1.47 * freq, 2.09 * freq, 2.56 * freq],
                     [t60, t60 * 0.6, t60 * 0.4, t60 * 0.3], [1.0, 0.6, 0.4, 0.25])
        out = np.zeros(n)
        for k in range(strikes):
            add_at(out, dome, int(k * sample_rate / trill_hz), 1.0 - 0.12 * k)
        return out

    return repeat(rng, count, duration, sample_rate, ring, jitter=0.05)

"""Weather and water: rain, wind, thunder, waves, stream, dripping water, bubbling, water pouring,
fire crackling.

Mostly granular and filtered-noise recipes: rain and fire are sparse impulse trains through
resonators, water is bubbles (rising, decaying sinusoids, after Minnaert), wind is noise through a
wandering resonance. Synth signature: `synth(rng, *, duration, sample_rate, variant, count) -> (S,)`.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from unisono.world.sfx.synth import (
    N_VARIANTS,
    Variation,
    add_at,
    bandpass,
    coloured_noise,
    exp_decay,
    highpass,
    lowpass,
    n_samples,
    nyquist_safe,
    poisson_impulses,
    repeat,
    resonator,
    smooth_random,
    time_axis,
    white,
)


def bubble(freq: float, length: float, rise: float, sample_rate: int) -> np.ndarray:
    """One bubble: a sine whose pitch rises by `rise` (fraction) as it decays over `length` s."""
    n = max(int(length * sample_rate), 2)
    t = time_axis(n, sample_rate)
    inst = nyquist_safe(freq * (1.0 + rise * t / length), sample_rate)
    return np.sin(2.0 * np.pi * np.cumsum(inst) / sample_rate) * np.exp(-5.0 * t / length)


def _bubble_field(
    rng: np.random.Generator,
    n: int,
    sample_rate: int,
    *,
    rate: float,
    freq_range: tuple[float, float],
    length_range: tuple[float, float],
    rise: float,
) -> np.ndarray:
    """Bubbles at Poisson times (the first at 0) drawn from a small precomputed bank."""
    bank_freqs = np.exp(rng.uniform(np.log(freq_range[0]), np.log(freq_range[1]), 16))
    bank = [bubble(f, rng.uniform(*length_range), rise, sample_rate) for f in bank_freqs]
    out = np.zeros(n)
    onsets = np.cumsum(rng.exponential(1.0 / rate, int(rate * n / sample_rate * 1.3) + 4))
    onsets = np.concatenate([[0.0], onsets]) * sample_rate
    for start in onsets[onsets < n].astype(int):
        add_at(out, bank[int(rng.integers(16))], start, rng.uniform(0.3, 1.0))
    return out


def rain(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Rain: broadband hiss of distant drops plus the patter of near drops on hard surfaces."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    density = vary.log_uniform(150.0, 1500.0)
    brightness = vary.uniform(3000.0, 7000.0)
    hiss = bandpass(white(rng, n), sample_rate, 600.0, brightness, order=1)
    hiss *= 1.0 + 0.15 * smooth_random(rng, n, sample_rate, 0.5)
    patter = np.zeros(n)
    for centre in (1500.0, 2500.0, 3800.0, 5200.0):
        drops = poisson_impulses(rng, n, sample_rate, density / 4.0)
        patter += resonator(drops, sample_rate, centre * rng.uniform(0.8, 1.2), centre * 0.3)
    patter = highpass(patter, sample_rate, 800.0)
    return hiss / (np.std(hiss) + 1e-12) + 2.5 * patter / (np.std(patter) + 1e-12)


def wind(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Wind: gusting low noise with a whistling resonance that wanders in pitch."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    centre = vary.log_uniform(250.0, 900.0)
    gust_rate = vary.uniform(0.15, 0.6)
    gust = 0.6 + 0.4 * smooth_random(rng, n, sample_rate, gust_rate)
    body = lowpass(coloured_noise(rng, n, 1.6), sample_rate, centre * 1.5)
    wander = smooth_random(rng, n, sample_rate, gust_rate * 2.0)
    howl = np.zeros(n)
    source = white(rng, n)
    # A bank of narrow resonators over an octave; a moving Gaussian weight glides between them.
    for k, ratio in enumerate(np.geomspace(0.7, 1.4, 7)):
        position = (k - 3) / 3.0
        weight = np.exp(-0.5 * ((wander - position) / 0.35) ** 2)
        howl += weight * resonator(source, sample_rate, centre * ratio, centre * 0.04)
    howl /= np.std(howl) + 1e-12
    return gust * (body / (np.std(body) + 1e-12) + 0.7 * gust * howl)


def thunder(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Thunder: a sharp crack followed by long rolling low rumble."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    crack_level = vary.uniform(0.3, 1.0)
    rumble_cutoff = vary.log_uniform(120.0, 400.0)
    rolls = vary.uniform(1.5, 5.0)
    crack = highpass(white(rng, n), sample_rate, 500.0) * exp_decay(n, sample_rate, 0.25)
    rumble = lowpass(coloured_noise(rng, n, 2.0), sample_rate, rumble_cutoff, order=4)
    rolling = 0.55 + 0.45 * smooth_random(rng, n, sample_rate, rolls)
    rumble *= rolling * exp_decay(n, sample_rate, duration * 1.1)
    return crack_level * crack / (np.std(crack[: sample_rate // 10]) + 1e-12) + 3.0 * rumble / (
        np.std(rumble) + 1e-12
    )


def waves(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Ocean surf: waves breaking every few seconds (bright crash) then washing back (dull hiss)."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    period = vary.uniform(3.5, 9.0)
    t = time_axis(n, sample_rate)
    cycle = (t % period) / period
    # The clip starts on a crash; each wave decays and swells again into the next crash.
    swell = np.exp(-3.5 * cycle) + np.clip((cycle - 0.75) / 0.25, 0.0, 1.0) ** 2 * 0.6
    envelope = 0.25 + 0.75 * swell / swell.max()
    noise = coloured_noise(rng, n, 1.0)
    low = lowpass(noise, sample_rate, 500.0)
    bright = bandpass(noise, sample_rate, 500.0, vary.uniform(3000.0, 6000.0))
    return envelope * low / (np.std(low) + 1e-12) + envelope**2 * 1.5 * bright / (np.std(bright) + 1e-12)


def stream(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Babbling brook: a dense field of small bubbles over soft water noise."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    rate = vary.log_uniform(80.0, 300.0)
    low = vary.log_uniform(350.0, 700.0)
    bubbles = _bubble_field(rng, n, sample_rate, rate=rate, freq_range=(low, low * 3.5),
                            length_range=(0.01, 0.04), rise=0.6)
    hiss = bandpass(white(rng, n), sample_rate, 200.0, 2500.0)
    return bubbles / (np.std(bubbles) + 1e-12) + 0.35 * hiss / (np.std(hiss) + 1e-12)


def dripping_water(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Single drops falling into water: resonant 'plink' bubbles, a faint splash, a hollow tail."""
    vary = Variation(rng, variant, N_VARIANTS)
    pitch = vary.log_uniform(700.0, 2400.0)
    length = vary.uniform(0.03, 0.1)
    rise = vary.uniform(0.5, 1.5)

    def drop(index: int, room: float) -> np.ndarray:
        freq = pitch * rng.uniform(0.9, 1.1)
        plink = bubble(freq, min(length, room), rise, sample_rate)
        splash = bandpass(white(rng, plink.shape[0]), sample_rate, 2000.0, 8000.0)
        plink += 0.08 * splash * exp_decay(plink.shape[0], sample_rate, 0.01)
        # Drips are heard in sinks, caves and bathrooms: a soft hollow tail around the plink pitch.
        n_tail = max(int(min(0.4, room) * sample_rate), plink.shape[0])
        tail = resonator(white(rng, n_tail), sample_rate, freq * (1.0 + rise), freq * 0.4)
        tail *= 0.12 * exp_decay(n_tail, sample_rate, 0.3) / (np.std(tail[: sample_rate // 50]) + 1e-12)
        add_at(tail, plink / (np.max(np.abs(plink)) + 1e-12), 0)
        return tail

    return repeat(rng, count, duration, sample_rate, drop)


def bubbling(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Bubbling liquid (boiling pot, aquarium): sparse large bubbles with strong upward glides."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    rate = vary.log_uniform(6.0, 30.0)
    low = vary.log_uniform(140.0, 400.0)
    bubbles = _bubble_field(rng, n, sample_rate, rate=rate, freq_range=(low, low * 2.0),
                            length_range=(0.04, 0.12), rise=1.2)
    return bubbles


def _sweeping_resonance(
    audio: np.ndarray, sample_rate: int, freq: np.ndarray, bandwidth: float, block: float = 0.01
) -> np.ndarray:
    """Resonator whose centre follows `freq` (S,), updated every `block` seconds with state carried."""
    step = max(int(block * sample_rate), 1)
    radius = np.exp(-np.pi * bandwidth / sample_rate)
    out = np.empty_like(audio)
    state = np.zeros(2)
    for start in range(0, audio.shape[0], step):
        theta = 2.0 * np.pi * float(nyquist_safe(freq[start], sample_rate)) / sample_rate
        a = [1.0, -2.0 * radius * np.cos(theta), radius * radius]
        out[start : start + step], state = signal.lfilter(
            [1.0 - radius], a, audio[start : start + step], zi=state
        )
    return out


def water_pouring(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Pouring into a vessel: turbulent splash noise with a cavity resonance rising as it fills."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    start_hz = vary.log_uniform(250.0, 700.0)
    end_hz = start_hz * vary.uniform(2.0, 4.0)
    t = time_axis(n, sample_rate)
    cavity = start_hz * (end_hz / start_hz) ** (t / duration)
    noise = white(rng, n)
    flicker = 0.7 + 0.3 * smooth_random(rng, n, sample_rate, 12.0)
    tone = _sweeping_resonance(noise, sample_rate, cavity, start_hz * 0.08)
    splash = bandpass(noise, sample_rate, 1500.0, 7000.0) * flicker
    gurgle = _bubble_field(rng, n, sample_rate, rate=40.0, freq_range=(300.0, 900.0),
                           length_range=(0.02, 0.05), rise=0.8)
    return (tone / (np.std(tone) + 1e-12) + 0.8 * splash / (np.std(splash) + 1e-12)
            + 0.3 * gurgle / (np.std(gurgle) + 1e-12))


def fire_crackling(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Wood fire: sharp random crackles and pops over a low roar and faint hiss."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    rate = vary.log_uniform(8.0, 45.0)
    roar_level = vary.uniform(0.1, 0.4)
    impulses = poisson_impulses(rng, n, sample_rate, rate)
    # Heavy-tailed loudness: most crackles are small, a few are loud snaps.
    impulses *= rng.pareto(2.5, n) * (impulses != 0) + (impulses != 0)
    impulses[0] = np.max(np.abs(impulses))
    crackle = highpass(resonator(impulses, sample_rate, 3000.0, 4000.0), sample_rate, 1000.0)
    pops = poisson_impulses(rng, n, sample_rate, rate / 6.0, start_at_zero=False)
    pops = resonator(pops, sample_rate, vary.uniform(400.0, 900.0), 300.0)
    roar = lowpass(coloured_noise(rng, n, 2.0), sample_rate, 180.0)
    roar *= 1.0 + 0.3 * smooth_random(rng, n, sample_rate, 2.0)
    hiss = bandpass(white(rng, n), sample_rate, 2500.0, 8000.0)
    peak = np.max(np.abs(crackle)) + 1e-12
    return (crackle / peak + 0.3 * pops / (np.max(np.abs(pops)) + 1e-12)
            + roar_level * 0.25 * roar / (np.std(roar) + 1e-12) + 0.01 * hiss / (np.std(hiss) + 1e-12))

"""Vehicles and mechanisms: engine hum, car horn, helicopter, train horn, ship horn, ticking clock,
camera shutter, sawing, power drill.

Engines are pitched pulse trains at the firing rate, horns are reedy harmonic tones (chords for
trains), rotors are periodic noise slaps. Synth signature:
`synth(rng, *, duration, sample_rate, variant, count) -> (S,)`.
"""

from __future__ import annotations

import numpy as np

from unisono.world.sfx.synth import (
    N_VARIANTS,
    Variation,
    add_at,
    attack_release,
    bandpass,
    coloured_noise,
    harmonic_tone,
    lowpass,
    modal,
    n_samples,
    noise_burst,
    repeat,
    smooth_random,
    time_axis,
    white,
)

CAR_HORN_HZ = (330.0, 560.0)
SHIP_HORN_HZ = (60.0, 150.0)


def engine_hum(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Idling or cruising combustion engine: a low pulse train at the firing rate plus rumble."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    firing_hz = vary.log_uniform(25.0, 90.0)
    brightness = vary.log_uniform(250.0, 900.0)
    rpm = firing_hz * (1.0 + 0.03 * smooth_random(rng, n, sample_rate, 0.7))
    # Firing pulses: all harmonics with a gentle roll-off, low-passed by the exhaust.
    pulses = harmonic_tone(rpm, n, sample_rate, [1.0 / k**0.3 for k in range(1, 40)])
    pulses = lowpass(pulses, sample_rate, brightness, order=2)
    # Cycle-to-cycle combustion variation: half-rate modulation (one cylinder slightly louder).
    half = 1.0 + 0.2 * np.sin(np.cumsum(2.0 * np.pi * rpm / 2.0 / sample_rate))
    rumble = lowpass(coloured_noise(rng, n, 1.5), sample_rate, brightness * 1.5)
    return half * pulses / (np.std(pulses) + 1e-12) + 0.3 * rumble


def _reed(f0: np.ndarray | float, n: int, sample_rate: int, brightness: float) -> np.ndarray:
    """Reedy horn tone: a nearly square pressure wave (odd-heavy harmonics, slowly rolling off)."""
    amps = [(1.0 if k % 2 else 0.5) / k**brightness for k in range(1, 40)]
    return harmonic_tone(f0, n, sample_rate, amps)


def car_horn(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Car horn honks: two electric horns a third apart, loud and brassy."""
    vary = Variation(rng, variant, N_VARIANTS)
    low = vary.log_uniform(CAR_HORN_HZ[0], CAR_HORN_HZ[1] / 1.26)
    high = low * vary.uniform(1.19, 1.26)
    length = vary.uniform(0.2, 0.7)

    def honk(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.75 * room) * sample_rate), 16)
        tone = _reed(low, n, sample_rate, 0.8) + _reed(high, n, sample_rate, 0.8)
        return np.tanh(1.5 * tone) * attack_release(n, sample_rate, 0.003, 0.02)

    return repeat(rng, count, duration, sample_rate, honk)


def helicopter(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Helicopter: thudding blade slaps many times a second, turbine whine and engine rumble."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    slap_hz = vary.uniform(11.0, 24.0)
    whine_hz = vary.log_uniform(1500.0, 4000.0)
    t = time_axis(n, sample_rate)
    cycle = (t * slap_hz) % 1.0
    slap_env = np.exp(-cycle / vary.uniform(0.08, 0.2))
    slaps = lowpass(white(rng, n), sample_rate, 700.0, order=2) * slap_env
    whine = np.sin(2.0 * np.pi * whine_hz * t) * 0.03
    rumble = lowpass(coloured_noise(rng, n, 2.0), sample_rate, 120.0)
    return slaps / (np.std(slaps) + 1e-12) + whine + 0.4 * rumble


def train_horn(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Diesel train air horn: a loud, slightly dissonant chord of three to five chimes."""
    vary = Variation(rng, variant, N_VARIANTS)
    root = vary.log_uniform(220.0, 420.0)
    # Nathan-style chimes: a major-sixth / minor-seventh chord over the root.
    chord = [1.0, 1.189, 1.498, 1.682, 1.782][: vary.integer(3, 5)]
    length = vary.uniform(0.8, 2.5)

    def blast(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.8 * room) * sample_rate), 16)
        tone = sum(_reed(root * r * rng.uniform(0.997, 1.003), n, sample_rate, 1.0) for r in chord)
        return np.tanh(0.8 * tone) * attack_release(n, sample_rate, 0.005, 0.08)

    return repeat(rng, count, duration, sample_rate, blast, jitter=0.05)


def ship_horn(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Ship's horn: a very low, powerful, buzzing blast."""
    vary = Variation(rng, variant, N_VARIANTS)
    f0 = vary.log_uniform(SHIP_HORN_HZ[0] * 1.05, SHIP_HORN_HZ[1] / 1.05)
    length = vary.uniform(1.5, 4.0)

    def blast(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.85 * room) * sample_rate), 16)
        pitch = f0 * (1.0 + 0.004 * smooth_random(rng, n, sample_rate, 3.0))
        tone = _reed(pitch, n, sample_rate, 0.9)
        tone = lowpass(tone, sample_rate, f0 * 12.0)
        breath = lowpass(white(rng, n), sample_rate, 400.0) * 0.1
        return (tone + breath) * attack_release(n, sample_rate, 0.01, 0.2)

    return repeat(rng, count, duration, sample_rate, blast, jitter=0.05)


def ticking_clock(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Mechanical clock: a steady tick-tock of tiny bright escapement clicks."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    rate = vary.uniform(1.5, 5.0)
    click_hz = vary.log_uniform(1800.0, 4500.0)
    click_len = int(0.03 * sample_rate)
    tick = modal(click_len, sample_rate, [click_hz, click_hz * 1.9, click_hz * 2.7], [0.015, 0.01, 0.008],
                 [1.0, 0.6, 0.3])
    tock = modal(click_len, sample_rate, [click_hz * 0.8, click_hz * 1.7, click_hz * 2.3],
                 [0.015, 0.01, 0.008], [1.0, 0.6, 0.3])
    out = np.zeros(n)
    for k, onset in enumerate(np.arange(0.0, duration, 1.0 / rate)):
        add_at(out, tick if k % 2 == 0 else tock, int(onset * sample_rate), 1.0 if k % 2 == 0 else 0.8)
    return out


def camera_shutter(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Camera shutter: the mirror-up clack and shutter click a few tens of milliseconds apart."""
    vary = Variation(rng, variant, N_VARIANTS)
    gap = vary.uniform(0.03, 0.09)
    click_hz = vary.log_uniform(2500.0, 6000.0)

    def shot(index: int, room: float) -> np.ndarray:
        n = max(int(min(0.2, room) * sample_rate), 16)
        first = modal(n, sample_rate, [click_hz, click_hz * 1.6], [0.02, 0.015], [1.0, 0.6])
        first += noise_burst(rng, n / sample_rate, sample_rate, 1000.0, 8000.0, 0.01)
        second = noise_burst(rng, 0.05, sample_rate, 2000.0, 9000.0, 0.015)
        add_at(first, second, int(min(gap, 0.5 * room) * sample_rate), 0.8)
        return first

    return repeat(rng, count, duration, sample_rate, shot)


def sawing(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Hand saw through wood: rasping strokes back and forth, the teeth buzzing through each."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    stroke_hz = vary.uniform(1.2, 3.0)
    teeth_hz = vary.uniform(60.0, 180.0)
    centre = vary.log_uniform(1500.0, 4000.0)
    t = time_axis(n, sample_rate)
    stroke = np.abs(np.sin(np.pi * stroke_hz * t + 0.35))
    push = (np.floor(stroke_hz * t + 0.35 / np.pi) % 2 == 0)
    teeth = 0.4 + 0.6 * (0.5 + 0.5 * np.sin(2.0 * np.pi * teeth_hz * t)) ** 3
    noise = white(rng, n)
    rasp = np.where(push, bandpass(noise, sample_rate, centre * 0.5, centre * 2.0),
                    bandpass(noise, sample_rate, centre * 0.35, centre * 1.2))
    return rasp * stroke * teeth


def power_drill(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Electric drill: a motor whine spinning up, with gear buzz and brush noise."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    top_hz = vary.log_uniform(180.0, 450.0)
    spin_up = vary.uniform(0.1, 0.4)
    t = time_axis(n, sample_rate)
    speed = top_hz * (0.55 + 0.45 * (1.0 - np.exp(-t / spin_up)))
    speed *= 1.0 + 0.01 * smooth_random(rng, n, sample_rate, 4.0)
    motor = harmonic_tone(speed, n, sample_rate, [1.0, 0.6, 0.8, 0.3, 0.5, 0.2, 0.3, 0.1])
    gears = harmonic_tone(speed * 7.0, n, sample_rate, [0.3, 0.15])
    brushes = bandpass(white(rng, n), sample_rate, 3000.0, 8000.0) * 0.1
    return motor + gears + brushes

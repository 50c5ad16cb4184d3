"""Speech data types, the shared phoneme alphabet, and the finishing steps every engine shares.

Audio is float32 mono, shape (S,) with S samples. Phone times are seconds from the start of the
audio; a list of phones is contiguous and covers the whole utterance, pauses written "_".
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from unisono.audio import resample
from unisono.errors import UnisonoError

SILENCE = "_"
PEAK_LEVEL = 0.5
MAX_EDGE_SILENCE = 0.15   # seconds of silence kept at each end at most
EDGE_MARGIN = 0.08        # seconds kept before the first and after the last speech sample
ONSET_THRESHOLD_DB = -35.0  # speech is where energy is above the peak minus this

# espeak-ng IPA phones (English voices, all accents) with stress and length marks removed:
# the one alphabet every voice's phone labels use, whatever engine made the audio.
PHONEME_INVENTORY: tuple[str, ...] = (
    SILENCE,
    # vowels and diphthongs (rhotic ones as espeak-ng writes them for en-us)
    "a", "aa", "aɪ", "aɪə", "aɪɚ", "aʊ", "aː", "e", "eə", "ei", "eɪ", "eː", "i", "iə", "iː", "o",
    "oə", "oʊ", "oː", "oːɹ", "u", "uː", "æ", "æʊ", "ɐ", "ɑ", "ɑə", "ɑː", "ɑːɹ", "ɒ", "ɔ", "ɔə",
    "ɔɪ", "ɔː", "ɔːɹ", "ə", "əl", "əu", "əɪ", "əʊ", "ɚ", "ɛ", "ɛə", "ɛɹ", "ɜ", "ɜː", "ɪ", "ɪə",
    "ɪɹ", "ʉ", "ʉː", "ʊ", "ʊə", "ʊɹ", "ʌ", "ʌɹ", "ʌʉ", "ʌʊ", "ᵻ",
    # consonants
    "b", "d", "dʒ", "f", "h", "j", "k", "l", "m", "n", "n̩", "p", "r", "s", "t", "tʃ", "v", "w",
    "x", "z", "ð", "ŋ", "ɡ", "ɹ", "ɾ", "ʃ", "ʍ", "ʒ", "ʔ", "θ",
)
_INVENTORY_SET = frozenset(PHONEME_INVENTORY)
_DROPPED_MARKS = str.maketrans("", "", "ˈˌ‍ˑ̃")


def normalize_phone(symbol: str) -> str:
    """Map an espeak-ng IPA phone to ``PHONEME_INVENTORY`` (pause, stress marks and ties removed)."""
    symbol = symbol.translate(_DROPPED_MARKS).replace(":", "ː").replace("ʲ", "j").strip()
    if not symbol:
        return SILENCE
    if symbol in _INVENTORY_SET:
        return symbol
    # Unknown long or combined forms: fall back to the longest known prefix ("iːə" -> "iː").
    for end in range(len(symbol) - 1, 0, -1):
        if symbol[:end] in _INVENTORY_SET:
            return symbol[:end]
    return SILENCE


@dataclass
class Phone:
    """One phone: an inventory symbol and its span in seconds."""

    symbol: str
    start: float
    end: float


@dataclass
class Utterance:
    """Synthesised speech with its text, voice id and phone timing.

    ``audio`` is float32 (S,) at ``sample_rate``; ``phonemes`` are contiguous and cover it.
    """

    audio: np.ndarray
    sample_rate: int
    text: str
    voice: str
    phonemes: list[Phone]

    @property
    def duration(self) -> float:
        """Length of the audio in seconds."""
        return self.audio.shape[0] / self.sample_rate


def merge_phones(phones: list[Phone], total: float) -> list[Phone]:
    """Make ``phones`` contiguous from 0 to ``total``: drop empty spans, merge repeated pauses."""
    merged: list[Phone] = []
    cursor = 0.0
    for phone in phones:
        end = min(max(phone.end, cursor), total)
        if end - cursor <= 1e-6:
            continue
        if merged and phone.symbol == SILENCE and merged[-1].symbol == SILENCE:
            merged[-1].end = end
        else:
            merged.append(Phone(phone.symbol, cursor, end))
        cursor = end
    if cursor < total:
        if merged and merged[-1].symbol == SILENCE:
            merged[-1].end = total
        else:
            merged.append(Phone(SILENCE, cursor, total))
    return merged


def speech_bounds(audio: np.ndarray, sample_rate: int, *, threshold_db: float = -45.0) -> tuple[int, int]:
    """First and one-past-last sample of the part louder than ``threshold_db`` below the peak.

    Uses 5 ms frames; an all-silent input gives (0, S).
    """
    frame = max(1, int(0.005 * sample_rate))
    count = audio.shape[0] // frame
    if count == 0:
        return 0, audio.shape[0]
    energy = np.square(audio[: count * frame].astype(np.float64)).reshape(count, frame).mean(axis=1)
    level = 10.0 * np.log10(energy + 1e-20)
    loud = np.flatnonzero(level > level.max() + threshold_db)
    if loud.size == 0 or level.max() < -100:
        return 0, audio.shape[0]
    return int(loud[0] * frame), int(min(audio.shape[0], (loud[-1] + 1) * frame))


def finish(audio: np.ndarray, native_rate: int, phones: list[Phone], *, sample_rate: int, text: str,
           voice: str) -> Utterance:
    """Resample, trim edge silence to ``EDGE_MARGIN``, peak-normalise and shift phones to match."""
    audio = resample(np.asarray(audio, dtype=np.float32), native_rate, sample_rate)
    if audio.size == 0 or not np.any(audio):
        raise UnisonoError(f"voice {voice!r} produced no audio for {text!r}: check the text is English words.")
    first, last = speech_bounds(audio, sample_rate, threshold_db=ONSET_THRESHOLD_DB)
    margin = int(EDGE_MARGIN * sample_rate)
    start, stop = max(0, first - margin), min(audio.shape[0], last + margin)
    audio = audio[start:stop]
    audio = (audio * (PEAK_LEVEL / float(np.max(np.abs(audio))))).astype(np.float32)
    offset = start / sample_rate
    total = audio.shape[0] / sample_rate
    shifted = [replace(p, start=p.start - offset, end=p.end - offset) for p in phones]
    shifted = [p for p in shifted if p.end > 0 and p.start < total]
    if shifted:
        shifted[0].start = 0.0
    return Utterance(audio, sample_rate, text, voice, merge_phones(shifted, total))


def require_program(name: str, package: str) -> str:
    """Absolute path of ``name``, or UnisonoError naming the Debian package that provides it."""
    path = shutil.which(name)
    if path is None:
        raise UnisonoError(f"program {name!r} not found: install it with `apt-get install {package}`.")
    return path


def run_program(args: list[str], *, what: str) -> None:
    """Run a command (no shell); a failure becomes UnisonoError with the program's stderr."""
    result = subprocess.run(args, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()[-400:]
        raise UnisonoError(f"{what} failed (exit {result.returncode}): {message}")


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate of a WAV file an engine wrote."""
    import soundfile

    if not path.exists() or path.stat().st_size <= 44:
        raise UnisonoError(f"the synthesiser wrote no audio to {path.name}: check the voice is installed.")
    audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return audio.mean(axis=1).astype(np.float32), int(rate)

"""Real recorded sound effects from Debian data packages, indexed with clean natural labels.

Sources: wesnoth-1.16-data, hedgewars-data, supertux-data (game sound effects) and
hydrogen-drumkits (drum samples, labelled from each kit's drumkit.xml). Music tracks, long
ambient loops (> 20 s) and voice-acted dialogue are left out. File names become labels by
stripping digits and take suffixes, splitting camelCase / snake_case, then a hand-written table
(package data `real_labels.json`). Only labels with at least `MIN_CLIPS_PER_LABEL` clips are
kept so every label can be split into train and test recordings.

Shapes: a loaded clip is mono float32 (S,).
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import soundfile as sf

from unisono.audio import load_audio
from unisono.errors import UnisonoError

DEFAULT_ROOTS: dict[str, str] = {
    "wesnoth": "/usr/share/games/wesnoth",
    "hedgewars": "/usr/share/games/hedgewars",
    "supertux": "/usr/share/games/supertux2",
    "hydrogen": "/usr/share/hydrogen/data/drumkits",
}
DEBIAN_PACKAGES = ("wesnoth-1.16-data", "hedgewars-data", "supertux-data", "hydrogen-drumkits")
MIN_CLIPS_PER_LABEL = 3
MIN_SECONDS, MAX_SECONDS = 0.05, 20.0
AUDIO_SUFFIXES = (".wav", ".ogg", ".flac", ".aiff", ".aif")
_SKIPPED_FOLDERS = {"music", "speech", "voices"}  # voices are read only through `voice_names`
_ONSET_THRESHOLD = 0.03  # leading samples below 3 % of the peak (-30 dB) count as silence
_ONSET_LEAD_SECONDS = 0.002  # keep 2 ms before the first loud sample


@dataclass(frozen=True)
class RealClip:
    """One recorded clip: absolute path, natural label, source package family, seconds."""

    path: str
    label: str
    source: str
    duration: float


@cache
def _label_tables() -> dict:
    text = resources.files("unisono.world").joinpath("data/real_labels.json").read_text("utf-8")
    tables = json.loads(text)
    tables["drum_rules"] = [(re.compile(p), label) for p, label in tables["drum_rules"]]
    return tables


def clean_name(stem: str) -> str:
    """Words of a file or instrument name: camelCase and separators split, digits dropped.

    >>> clean_name("airmine_impact2")
    'airmine impact'
    >>> clean_name("PoisonCough")
    'poison cough'
    """
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)
    words = (re.sub(r"\d+", "", w) for w in re.split(r"[\s_\-.]+", spaced.lower()))
    return " ".join(w for w in words if w)


def _label_for_file(stem: str, in_voices: bool) -> str | None:
    tables = _label_tables()
    name = clean_name(stem)
    if in_voices:
        return tables["voice_names"].get(name)
    if not name:
        return None
    return tables["names"].get(name, name)


def _label_for_drum(instrument: str) -> str | None:
    name = instrument.lower()
    for pattern, label in _label_tables()["drum_rules"]:
        if pattern.search(name):
            return label
    return None


def _duration(path: Path) -> float | None:
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError):
        return None
    return info.frames / info.samplerate if info.samplerate else None


def _game_clips(source: str, root: Path) -> list[tuple[str, str, str]]:
    """(path, label, source) for sound effects under folders named like 'sounds'."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
            continue
        folders = [part.lower() for part in path.relative_to(root).parts[:-1]]
        if not any("sound" in f for f in folders):
            continue
        in_voices = "voices" in folders
        if not in_voices and _SKIPPED_FOLDERS & set(folders):
            continue
        label = _label_for_file(path.stem, in_voices)
        if label:
            found.append((str(path), label, source))
    return found


def _drumkit_clips(root: Path) -> list[tuple[str, str, str]]:
    """(path, label, 'hydrogen') for every layer sample of every labelled kit instrument."""
    found = []
    for kit_file in sorted(root.glob("*/drumkit.xml")):
        try:
            tree = ET.parse(kit_file)
        except ET.ParseError:
            continue
        namespace = tree.getroot().tag.partition("}")[0] + "}" if "}" in tree.getroot().tag else ""
        for instrument in tree.getroot().iter(f"{namespace}instrument"):
            label = _label_for_drum(instrument.findtext(f"{namespace}name") or "")
            if label is None:
                continue
            for element in instrument.iter(f"{namespace}filename"):
                sample = kit_file.parent / (element.text or "")
                if element.text and sample.is_file():
                    found.append((str(sample), label, "hydrogen"))
    return found


@cache
def _index(roots: tuple[tuple[str, str], ...]) -> tuple[RealClip, ...]:
    candidates: dict[str, tuple[str, str]] = {}
    for source, root_text in roots:
        root = Path(root_text)
        if not root.is_dir():
            continue
        rows = _drumkit_clips(root) if source == "hydrogen" else _game_clips(source, root)
        for path, label, src in rows:
            candidates.setdefault(path, (label, src))  # kits share samples: first wins
    clips = []
    for path in sorted(candidates):
        duration = _duration(Path(path))
        if duration is not None and MIN_SECONDS <= duration <= MAX_SECONDS:
            label, source = candidates[path]
            clips.append(RealClip(path, label, source, round(duration, 6)))
    counts = Counter(clip.label for clip in clips)
    return tuple(c for c in clips if counts[c.label] >= MIN_CLIPS_PER_LABEL)


def index_real_clips(roots: dict[str, str] | None = None) -> list[RealClip]:
    """Index the recorded clips of the installed packages, sorted by path; cached per process.

    Args:
        roots: source name -> folder; defaults to `DEFAULT_ROOTS`. The source "hydrogen" is
            read as Hydrogen drum kits, any other as a game data folder.

    Returns:
        Clips of labels holding at least `MIN_CLIPS_PER_LABEL` clips; [] if nothing is installed.
    """
    roots = DEFAULT_ROOTS if roots is None else roots
    return list(_index(tuple(sorted(roots.items()))))


def require_real_clips(roots: dict[str, str] | None = None) -> list[RealClip]:
    """`index_real_clips`, raising UnisonoError naming the Debian packages when it is empty."""
    clips = index_real_clips(roots)
    if not clips:
        raise UnisonoError(
            "no recorded sound effects found: install the Debian packages "
            f"{' '.join(DEBIAN_PACKAGES)} (apt-get install -y {' '.join(DEBIAN_PACKAGES)})."
        )
    return clips


def real_labels(clips: list[RealClip]) -> dict[str, int]:
    """Label -> number of clips, sorted by label."""
    return dict(sorted(Counter(clip.label for clip in clips).items()))


def load_real_clip(clip: RealClip, *, sample_rate: int) -> np.ndarray:
    """Load a clip as mono float32 (S,) at `sample_rate`, leading silence trimmed, peak 0.5.

    The first sample above -30 dB of the peak lands within 2 ms of sample 0.
    """
    audio, _ = load_audio(clip.path, sample_rate, allow_silent=False)
    peak = float(np.max(np.abs(audio)))
    first_loud = int(np.argmax(np.abs(audio) >= _ONSET_THRESHOLD * peak))
    start = max(0, first_loud - int(round(_ONSET_LEAD_SECONDS * sample_rate)))
    trimmed = audio[start:]
    return (trimmed * np.float32(0.5 / peak)).astype(np.float32)


def split_of_clip(clip: RealClip) -> str:
    """"train", "val" or "test" (about 80/10/10), fixed by a hash of the file's folder and name.

    The hash ignores the install prefix, so the split is the same on every machine.
    """
    key = "/".join(Path(clip.path).parts[-2:]).encode("utf-8")
    bucket = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"

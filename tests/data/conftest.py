"""Fixture builders: tiny copies of public datasets in their real folder layouts.

Every clip is a short sine tone whose duration and sample rate the tests know exactly.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ToneWriter = Callable[..., Path]


def write_tone(path: Path, seconds: float = 0.2, sample_rate: int = 16000, *,
               frequency: float = 440.0) -> Path:
    """A sine tone at -6 dBFS; the format follows the suffix (.wav or .flac)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = round(seconds * sample_rate)
    times = np.arange(frames) / sample_rate
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * frequency * times)).astype(np.float32), sample_rate)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def tone() -> ToneWriter:
    return write_tone


@pytest.fixture
def table() -> Callable[..., Path]:
    return write_csv


@pytest.fixture
def audiocaps_root(tmp_path: Path) -> Path:
    """AudioCaps: dataset/{train,val}.csv; audio in three naming schemes; one clip missing."""
    root = tmp_path / "audiocaps"
    columns = ["audiocap_id", "youtube_id", "start_time", "caption"]
    write_csv(root / "dataset" / "train.csv", columns, [
        [91139, "r1nicOVtvkQ", 130, "A woman talks nearby as water pours"],
        [58146, "UDGBjjwyaqE", "20.0", "Multiple clanging and clanking sounds"],  # 20.0 == 20
        [11, "missingYT01", 0, "Nobody downloaded this one"],
    ])
    # The five val captions of one clip, shuffled: the importer groups and orders them by id.
    write_csv(root / "dataset" / "val.csv", columns, [
        [97153, "rqfQRErjfk8", 170, "third caption"],
        [97151, "rqfQRErjfk8", 170, "first caption, with a comma"],
        [97155, "rqfQRErjfk8", 170, "fifth caption"],
        [97152, "rqfQRErjfk8", 170, "second caption"],
        [97154, "rqfQRErjfk8", 170, "fourth caption"],
    ])
    write_tone(root / "audio" / "train" / "r1nicOVtvkQ.wav", 0.2, 16000)
    write_tone(root / "audio" / "eval" / "r1nicOVtvkQ.wav", 0.3, 16000)  # same name, wrong split
    write_tone(root / "UDGBjjwyaqE_20.wav", 0.25, 32000)
    write_tone(root / "audio" / "val" / "97151.wav", 0.3, 16000)
    return root


@pytest.fixture
def clotho_root(tmp_path: Path) -> Path:
    """Clotho v2: caption CSVs at the root, audio in development/ and validation/."""
    root = tmp_path / "clotho"
    columns = ["file_name"] + [f"caption_{i}" for i in range(1, 6)]
    write_csv(root / "clotho_captions_development.csv", columns, [
        ["Distorted AM Radio noise.wav", "A radio hisses.", "Static, crackling, on a radio.",
         "Radio noise rises.", "An old radio is tuned.", "White noise from a radio."],
        ["birds_singing.wav", "Birds chirp.", "Many birds sing.", "Birds sing in trees.",
         "Chirping birds.", "Birdsong outdoors."],
    ])
    write_csv(root / "clotho_captions_validation.csv", columns, [
        ["rain on roof.wav", "Rain falls on a roof.", "Heavy rain.", "Rain patters.",
         "It is raining.", "Water drops hit metal."],
    ])
    write_csv(root / "clotho_captions_evaluation.csv", columns, [
        ["not_downloaded.wav", "a", "b", "c", "d", "e"],
    ])
    write_tone(root / "development" / "Distorted AM Radio noise.wav", 0.2, 44100)
    write_tone(root / "development" / "birds_singing.wav", 0.3, 44100)
    write_tone(root / "validation" / "rain on roof.wav", 0.25, 44100)
    return root


@pytest.fixture
def ljspeech_root(tmp_path: Path) -> Path:
    """LJSpeech-1.1: pipe-separated metadata.csv with quotes; wavs/; one row without audio."""
    root = tmp_path / "LJSpeech-1.1"
    (root / "wavs").mkdir(parents=True)
    (root / "metadata.csv").write_text(
        "LJ001-0002|in being comparatively modern.|in being comparatively modern.\n"
        'LJ002-0010|"He said 1829, sir."|"He said eighteen twenty-nine, sir."\n'
        "LJ003-0001|No audio for me.|No audio for me.\n"
        "LJ001-0001|Printing, in the only sense|Printing, in the only sense\n",
        encoding="utf-8",
    )
    write_tone(root / "wavs" / "LJ001-0001.wav", 0.2, 22050)
    write_tone(root / "wavs" / "LJ001-0002.wav", 0.3, 22050)
    write_tone(root / "wavs" / "LJ002-0010.wav", 0.25, 22050)
    return root


@pytest.fixture
def libritts_root(tmp_path: Path) -> Path:
    """LibriTTS: subset/speaker/chapter folders, SPEAKERS.txt; one utterance lacks its text."""
    root = tmp_path / "LibriTTS"
    root.mkdir()
    (root / "SPEAKERS.txt").write_text(
        "; Some comments about the corpus\n"
        ";ID  |SEX| SUBSET           |MINUTES| NAME\n"
        "103  | F | train-clean-100  | 23.95 | Karen Savage\n"
        "1272 | M | dev-clean        |  8.02 | John Rose\n",
        encoding="utf-8",
    )
    utterances = [
        ("train-clean-100", "103", "1241", "103_1241_000000_000001", 0.2,
         "Matthew Cuthbert is surprised.", "Matthew Cuthbert is surprised"),
        ("dev-clean", "1272", "128104", "1272_128104_000001_000000", 0.3,
         "He has graceful and polished manners.", "He has graceful and polished manners."),
        ("test-clean", "1089", "134686", "1089_134686_000001_000001", 0.25, None, None),
    ]
    for subset, speaker, chapter, utt, seconds, normalized, original in utterances:
        folder = root / subset / speaker / chapter
        write_tone(folder / f"{utt}.wav", seconds, 24000)
        if normalized is not None:
            (folder / f"{utt}.normalized.txt").write_text(normalized, encoding="utf-8")
            (folder / f"{utt}.original.txt").write_text(original, encoding="utf-8")
    return root


VCTK_SPEAKER_INFO = (
    "ID  AGE  GENDER  ACCENTS  REGION COMMENTS \n"
    "p225  23  F    English    Southern  England\n"
    "p226  22  M    English    Surrey\n"
    "p315  18  M    American    Connecticut (Text is lost)\n"
)


@pytest.fixture
def vctk_root(tmp_path: Path) -> Path:
    """VCTK 0.92: wav48_silence_trimmed flac (mic1 + mic2), txt/, speaker-info.txt; p315 has no
    text (as in the real corpus)."""
    root = tmp_path / "VCTK-Corpus-0.92"
    root.mkdir()
    (root / "speaker-info.txt").write_text(VCTK_SPEAKER_INFO, encoding="utf-8")
    audio = root / "wav48_silence_trimmed"
    write_tone(audio / "p225" / "p225_001_mic1.flac", 0.2, 48000)
    write_tone(audio / "p225" / "p225_001_mic2.flac", 0.2, 48000)
    write_tone(audio / "p226" / "p226_002_mic1.flac", 0.3, 48000)
    write_tone(audio / "p315" / "p315_001_mic1.flac", 0.25, 48000)
    (root / "txt" / "p225").mkdir(parents=True)
    (root / "txt" / "p226").mkdir(parents=True)
    (root / "txt" / "p225" / "p225_001.txt").write_text("Please call Stella.\n", encoding="utf-8")
    (root / "txt" / "p226" / "p226_002.txt").write_text(
        "Ask her to bring these things with her from the store.\n", encoding="utf-8")
    return root


@pytest.fixture
def vctk_old_root(tmp_path: Path) -> Path:
    """VCTK-Corpus 0.80: wav48/{spk}/{spk}_{utt}.wav, numeric ids in speaker-info.txt."""
    root = tmp_path / "VCTK-Corpus"
    root.mkdir()
    (root / "speaker-info.txt").write_text(
        "ID  AGE  GENDER  ACCENTS  REGION\n225  23  F    English    Southern  England\n",
        encoding="utf-8",
    )
    write_tone(root / "wav48" / "p225" / "p225_001.wav", 0.2, 48000)
    (root / "txt" / "p225").mkdir(parents=True)
    (root / "txt" / "p225" / "p225_001.txt").write_text("Please call Stella.\n", encoding="utf-8")
    return root


@pytest.fixture
def folder_root(tmp_path: Path) -> Path:
    """A plain folder: class sub-folders, one loose file, one non-audio file."""
    root = tmp_path / "sounds"
    write_tone(root / "dog" / "bark1.wav", 0.2, 16000)
    write_tone(root / "dog" / "bark2.flac", 0.3, 22050)
    write_tone(root / "cat" / "meow.wav", 0.25, 16000)
    write_tone(root / "loose.wav", 0.2, 8000)
    (root / "README.txt").write_text("not audio", encoding="utf-8")
    return root


def write_json(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def wavcaps_root(tmp_path: Path) -> Path:
    """WavCaps: json_files/{subset}/*_final.json and unzipped flac folders. AudioSet_SL ids end
    in '.wav' while the files are flac; FreeSound and SoundBible both have an id 2223 (each in
    its own folder); one BBC clip and one AudioSet clip were never downloaded."""
    root = tmp_path / "WavCaps"
    jsons = root / "json_files"
    write_json(jsons / "AudioSet_SL" / "as_final.json", {"num_captions_per_audio": 1, "data": [
        {"id": "Yb0RFKhbpFJA.wav", "caption": "Wind and a man speaking are heard.",
         "audio": "wav_path", "duration": 10.0},
        {"id": "YmissingAS01.wav", "caption": "Never downloaded.", "audio": "wav_path",
         "duration": 10.0},
    ]})
    write_json(jsons / "FreeSound" / "fsd_final.json", {"data": [
        {"id": "180913", "file_name": "UK Mello.wav", "tags": ["mellotron", "synth"],
         "description": "Mellotron chord.", "caption": "A mellotron plays a chord.",
         "duration": 3.99, "download_link": "https://freesound.org/x"},
        {"id": "2223", "caption": "Footsteps on gravel.", "tags": [], "duration": 1.5},
    ]})
    write_json(jsons / "BBC_Sound_Effects" / "bbc_final.json", {"data": [
        {"id": "07067046", "description": "Aircraft: jet passes overhead.",
         "category": "['Aircraft', 'Transport']", "caption": "A jet flies overhead.",
         "audio": "wav_path", "duration": 5.6},
        {"id": "07067047", "category": "['Aircraft']", "caption": "Gone.", "duration": 2.0},
    ]})
    write_json(jsons / "SoundBible" / "sb_final.json", {"data": [
        {"title": "Dog Bark", "id": "2223", "caption": "A dog barks twice.", "duration": 0.9,
         "audio": "wav_path"},
    ]})
    write_json(jsons / "blacklist" / "blacklist_exclude_all_ac.json", {"AudioSet": ["Yx"]})
    write_tone(root / "AudioSet_SL" / "Yb0RFKhbpFJA.flac", 0.2, 32000)
    write_tone(root / "FreeSound_flac" / "180913.flac", 0.3, 32000)
    write_tone(root / "FreeSound_flac" / "2223.flac", 0.25, 32000)
    write_tone(root / "BBC_Sound_Effects_flac" / "07067046.flac", 0.2, 32000)
    write_tone(root / "SoundBible_flac" / "2223.flac", 0.35, 32000)
    return root


VOICEBANK_UTTERANCES = {
    ("trainset_28spk", "p226_001"): "Please call Stella.",
    ("trainset_28spk", "p287_012"): "The rainbow is a division of white light.",
    ("testset", "p232_001"): "Please call Stella.",
    ("testset", "p257_430"): None,  # no transcript file
}


@pytest.fixture
def voicebank_root(tmp_path: Path) -> Path:
    """VoiceBank-DEMAND (DS_10283_2791 unzipped): clean/noisy train (28spk) and test wavs,
    transcripts, a test log file; one noisy file lacks its clean twin."""
    root = tmp_path / "DS_10283_2791"
    for (subset, utt), text in VOICEBANK_UTTERANCES.items():
        write_tone(root / f"clean_{subset}_wav" / f"{utt}.wav", 0.2, 48000, frequency=440.0)
        write_tone(root / f"noisy_{subset}_wav" / f"{utt}.wav", 0.2, 48000, frequency=660.0)
        if text is not None:
            (root / f"{subset}_txt").mkdir(parents=True, exist_ok=True)
            (root / f"{subset}_txt" / f"{utt}.txt").write_text(text + "\n", encoding="utf-8")
    write_tone(root / "noisy_testset_wav" / "p232_002.wav", 0.3, 48000)
    (root / "logfiles").mkdir()
    (root / "logfiles" / "log_testset.txt").write_text(
        "p232_001 living 17.5\np257_430 bus 2.5\n", encoding="utf-8")
    return root


MUSICCAPS_COLUMNS = ["ytid", "start_s", "end_s", "audioset_positive_labels", "aspect_list",
                     "caption", "author_id", "is_balanced_subset", "is_audioset_eval"]


@pytest.fixture
def musiccaps_root(tmp_path: Path) -> Path:
    """MusicCaps: musiccaps-public.csv; clips as audio/{ytid}.wav or {ytid}_{start}.wav; one
    clip not downloaded, one row with a broken aspect_list."""
    root = tmp_path / "musiccaps"
    write_csv(root / "musiccaps-public.csv", MUSICCAPS_COLUMNS, [
        ["-0Gj8-vB1q4", 30, 40, "/m/0140xf,/m/02cjck,/m/04rlf",
         "['low quality', 'sustained strings melody', \"children's choir\"]",
         "The low quality recording features a children's choir, sung over strings.",
         4, "False", "True"],
        ["-0SdAVK79lg", 30, 40, "/m/0155w,/m/01lyv",
         "['guitar song', 'piano backing', 'simple percussion']",
         "This song features an electric guitar as the main instrument.", 0, "True", "False"],
        ["-0vPFx-wRRI", 30, 40, "/m/025_jnm", "['amateur recording']", "Not downloaded.", 6,
         "False", "False"],
        ["-1LrH01Ei1w", 30, 40, "/m/04rlf", "['broken", "A broken aspect list.", 1, "False",
         "False"],
    ])
    write_tone(root / "audio" / "-0Gj8-vB1q4.wav", 0.2, 16000)
    write_tone(root / "-0SdAVK79lg_30.wav", 0.25, 48000)
    write_tone(root / "audio" / "-1LrH01Ei1w.wav", 0.2, 16000)
    return root

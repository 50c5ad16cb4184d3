"""WavCaps, VoiceBank-DEMAND and MusicCaps importers on tiny fixtures in their real layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import unisono.cli
from unisono.data import import_dataset, read_manifest, resolve_path, write_manifest
from unisono.errors import UnisonoError


def run(name: str, root: Path, **kwargs):
    manifest = root / "manifest.jsonl"
    return import_dataset(name, root, manifest, **kwargs), manifest


def by_id(result) -> dict:
    return {entry.id: entry for entry in result.entries}


# --- WavCaps ----------------------------------------------------------------------------------


def test_wavcaps_ids_captions_and_subset_folders(wavcaps_root):
    result, manifest = run("wavcaps", wavcaps_root)
    assert [entry.id for entry in result.entries] == [
        "AudioSet_SL/Yb0RFKhbpFJA", "BBC_Sound_Effects/07067046", "FreeSound/180913",
        "FreeSound/2223", "SoundBible/2223"]
    entries = by_id(result)
    audioset = entries["AudioSet_SL/Yb0RFKhbpFJA"]  # id 'Yb0RFKhbpFJA.wav', file .flac
    assert audioset.path == "AudioSet_SL/Yb0RFKhbpFJA.flac"
    assert audioset.captions == ["Wind and a man speaking are heard."]
    assert audioset.duration == pytest.approx(0.2, abs=1e-3) and audioset.sample_rate == 32000
    assert (audioset.kind, audioset.source, audioset.split) == ("audio", "wavcaps", None)
    # Both subsets have an id 2223: each takes the file in its own folder.
    assert entries["FreeSound/2223"].path == "FreeSound_flac/2223.flac"
    assert entries["SoundBible/2223"].path == "SoundBible_flac/2223.flac"
    assert entries["SoundBible/2223"].duration == pytest.approx(0.35, abs=1e-3)
    assert entries["SoundBible/2223"].extra == {"subset": "SoundBible", "title": "Dog Bark"}
    freesound = entries["FreeSound/180913"]
    assert freesound.labels == ["mellotron", "synth"]
    assert freesound.extra == {"subset": "FreeSound", "description": "Mellotron chord."}
    bbc = entries["BBC_Sound_Effects/07067046"]
    assert bbc.labels == ["Aircraft", "Transport"]  # parsed from "['Aircraft', 'Transport']"
    assert bbc.captions == ["A jet flies overhead."]
    assert sorted(result.skipped) == [
        "AudioSet_SL/YmissingAS01: no audio file YmissingAS01.flac / YmissingAS01.wav",
        "BBC_Sound_Effects/07067047: no audio file 07067047.flac / 07067047.wav"]
    assert resolve_path(bbc, manifest) == wavcaps_root / "BBC_Sound_Effects_flac" / "07067046.flac"


def test_wavcaps_keeps_json_duration_without_probing(wavcaps_root):
    result, _ = run("wavcaps", wavcaps_root, probe=False)
    durations = {entry.id: entry.duration for entry in result.entries}
    assert durations["FreeSound/180913"] == 3.99 and durations["SoundBible/2223"] == 0.9
    assert all(entry.sample_rate is None for entry in result.entries)


def test_wavcaps_never_takes_another_subsets_file(wavcaps_root):
    (wavcaps_root / "FreeSound_flac" / "2223.flac").unlink()
    result, _ = run("wavcaps", wavcaps_root)
    assert "FreeSound/2223" not in by_id(result)
    assert "FreeSound/2223: no audio file 2223.flac / 2223.wav" in result.skipped
    assert by_id(result)["SoundBible/2223"].path == "SoundBible_flac/2223.flac"


def test_wavcaps_bad_json_is_a_clear_error(wavcaps_root):
    (wavcaps_root / "json_files" / "SoundBible" / "sb_final.json").write_text("[1, 2]")
    with pytest.raises(UnisonoError, match=r"sb_final.json is not a WavCaps file"):
        run("wavcaps", wavcaps_root)
    (wavcaps_root / "json_files" / "SoundBible" / "sb_final.json").write_text("{oops")
    with pytest.raises(UnisonoError, match="cannot parse WavCaps JSON"):
        run("wavcaps", wavcaps_root)


# --- VoiceBank-DEMAND -------------------------------------------------------------------------


def test_voicebank_pairs_noisy_with_clean(voicebank_root):
    result, manifest = run("voicebank-demand", voicebank_root)
    assert [entry.id for entry in result.entries] == [
        "p226_001", "p232_001", "p257_430", "p287_012"]
    entries = by_id(result)
    test = entries["p232_001"]
    assert test.path == "noisy_testset_wav/p232_001.wav"
    assert test.stems == {"clean": "clean_testset_wav/p232_001.wav"}
    assert (test.kind, test.speaker, test.split, test.transcript) == (
        "speech", "p232", "test", "Please call Stella.")
    assert test.extra == {"subset": "testset", "noise": "living", "snr_db": 17.5}
    assert test.sample_rate == 48000 and test.duration == pytest.approx(0.2, abs=1e-3)
    train = entries["p287_012"]
    assert (train.speaker, train.split) == ("p287", "train")
    assert train.transcript == "The rainbow is a division of white light."
    assert train.extra == {"subset": "trainset_28spk"}
    assert train.stems == {"clean": "clean_trainset_28spk_wav/p287_012.wav"}
    untranscribed = entries["p257_430"]
    assert untranscribed.transcript is None and untranscribed.extra["noise"] == "bus"
    assert result.skipped == ["p232_002: no clean counterpart clean_testset_wav/p232_002.wav"]
    assert resolve_path(test, manifest) == voicebank_root / "noisy_testset_wav" / "p232_001.wav"


def test_voicebank_clean_stem_survives_a_manifest_round_trip(voicebank_root, tmp_path):
    manifest = tmp_path / "elsewhere" / "vb.jsonl"  # outside the data: paths become absolute
    result = import_dataset("voicebank-demand", voicebank_root, manifest, limit=1)
    write_manifest(manifest, result.entries)
    (entry,) = read_manifest(manifest)
    assert entry.stems["clean"] == (voicebank_root / "clean_trainset_28spk_wav" /
                                    "p226_001.wav").as_posix()
    line = json.loads(manifest.read_text().splitlines()[0])
    assert line["stems"] == {"clean": entry.stems["clean"]}


def test_voicebank_in_a_subfolder_and_wrong_folder(voicebank_root, tmp_path):
    result, _ = run("voicebank-demand", voicebank_root.parent)  # the layout one level deeper
    assert len(result.entries) == 4
    with pytest.raises(UnisonoError, match="noisy_testset_wav"):
        import_dataset("voicebank-demand", voicebank_root / "logfiles", tmp_path / "m.jsonl")


# --- MusicCaps --------------------------------------------------------------------------------


def test_musiccaps_aspects_splits_and_naming_schemes(musiccaps_root):
    result, _ = run("musiccaps", musiccaps_root)
    assert [entry.id for entry in result.entries] == ["-0Gj8-vB1q4", "-0SdAVK79lg"]
    entries = by_id(result)
    choir = entries["-0Gj8-vB1q4"]
    assert choir.path == "audio/-0Gj8-vB1q4.wav"
    assert choir.labels == ["low quality", "sustained strings melody", "children's choir"]
    assert choir.captions == [
        "The low quality recording features a children's choir, sung over strings."]
    assert (choir.kind, choir.split, choir.source) == ("music", "test", "musiccaps")
    assert choir.extra == {"start_time": 30.0, "end_time": 40.0, "author_id": "4",
                           "audioset_labels": ["/m/0140xf", "/m/02cjck", "/m/04rlf"],
                           "is_balanced_subset": False}
    guitar = entries["-0SdAVK79lg"]
    assert guitar.path == "-0SdAVK79lg_30.wav" and guitar.split == "train"
    assert guitar.sample_rate == 48000 and guitar.duration == pytest.approx(0.25, abs=1e-3)
    assert guitar.extra["is_balanced_subset"] is True
    assert result.skipped == [
        "-0vPFx-wRRI: no audio file -0vPFx-wRRI.wav or -0vPFx-wRRI_30.wav",
        "-1LrH01Ei1w: aspect_list in row 5 is not a Python list"]


def test_musiccaps_aspect_list_is_never_evaluated(musiccaps_root, table):
    csv_path = musiccaps_root / "musiccaps-public.csv"
    header = csv_path.read_text().splitlines()[0].split(",")
    table(csv_path, header, [
        ["-0Gj8-vB1q4", 30, 40, "", "__import__('os').getcwd()", "x", 1, "False", "False"]])
    result, _ = run("musiccaps", musiccaps_root)
    assert result.entries == []
    assert result.skipped == ["-0Gj8-vB1q4: aspect_list in row 2 is not a Python list"]


@pytest.mark.parametrize("name", ["wavcaps", "voicebank-demand", "musiccaps"])
def test_wrong_folder_raises_a_clear_error(name, tmp_path):
    with pytest.raises(UnisonoError, match=str(tmp_path)):
        import_dataset(name, tmp_path, tmp_path / "m.jsonl")


def test_cli_lists_and_runs_the_new_formats(musiccaps_root, capsys):
    with pytest.raises(SystemExit):
        unisono.cli.main(["data", "import", "--help"])
    help_text = capsys.readouterr().out
    assert all(name in help_text for name in ("wavcaps", "voicebank-demand", "musiccaps"))
    manifest = musiccaps_root / "m.jsonl"
    assert unisono.cli.main(["data", "import", "musiccaps", str(musiccaps_root),
                             "-o", str(manifest)]) == 0
    assert [entry.id for entry in read_manifest(manifest)] == ["-0Gj8-vB1q4", "-0SdAVK79lg"]

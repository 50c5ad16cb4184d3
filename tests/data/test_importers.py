"""Each importer on a tiny fixture in its dataset's real layout gives exact entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from unisono.data import IMPORTERS, import_dataset, resolve_path
from unisono.errors import UnisonoError


def run(name: str, root: Path, **kwargs):
    manifest = root / "manifest.jsonl"
    return import_dataset(name, root, manifest, **kwargs), manifest


def by_id(result) -> dict:
    return {entry.id: entry for entry in result.entries}


def test_registry_lists_every_format():
    assert list(IMPORTERS) == ["audiocaps", "clotho", "ljspeech", "libritts", "vctk", "folder",
                              "wavcaps", "voicebank-demand", "musiccaps"]


def test_audiocaps_groups_captions_and_finds_every_naming_scheme(audiocaps_root):
    result, manifest = run("audiocaps", audiocaps_root)
    assert [entry.id for entry in result.entries] == [
        "train/UDGBjjwyaqE_20", "train/r1nicOVtvkQ_130", "val/rqfQRErjfk8_170"]
    entries = by_id(result)
    val = entries["val/rqfQRErjfk8_170"]
    assert val.captions == ["first caption, with a comma", "second caption", "third caption",
                            "fourth caption", "fifth caption"]
    assert val.extra["audiocap_ids"] == [97151, 97152, 97153, 97154, 97155]
    assert val.path == "audio/val/97151.wav" and val.split == "val"
    assert val.extra["start_time"] == 170.0 and val.extra["youtube_id"] == "rqfQRErjfk8"
    # The same youtube id also exists under audio/eval/: the train folder wins.
    assert entries["train/r1nicOVtvkQ_130"].path == "audio/train/r1nicOVtvkQ.wav"
    assert entries["train/UDGBjjwyaqE_20"].path == "UDGBjjwyaqE_20.wav"
    assert entries["train/UDGBjjwyaqE_20"].sample_rate == 32000
    assert entries["train/UDGBjjwyaqE_20"].duration == pytest.approx(0.25, abs=1e-3)
    assert entries["train/r1nicOVtvkQ_130"].captions == ["A woman talks nearby as water pours"]
    assert len(result.skipped) == 1 and "missingYT01" in result.skipped[0]
    assert resolve_path(val, manifest) == audiocaps_root / "audio" / "val" / "97151.wav"


def test_clotho_reads_five_captions_per_file_and_maps_splits(clotho_root):
    result, _ = run("clotho", clotho_root)
    entries = by_id(result)
    assert sorted(entries) == ["development/Distorted AM Radio noise",
                               "development/birds_singing", "validation/rain on roof"]
    radio = entries["development/Distorted AM Radio noise"]
    assert radio.captions == ["A radio hisses.", "Static, crackling, on a radio.",
                              "Radio noise rises.", "An old radio is tuned.",
                              "White noise from a radio."]
    assert radio.split == "train" and radio.sample_rate == 44100
    assert radio.path == "development/Distorted AM Radio noise.wav"
    assert entries["validation/rain on roof"].split == "val"
    assert entries["development/birds_singing"].duration == pytest.approx(0.3, abs=1e-3)
    assert result.skipped == ["evaluation/not_downloaded: no audio file evaluation/not_downloaded.wav"]


def test_ljspeech_keeps_quotes_and_prefers_normalized_text(ljspeech_root):
    result, _ = run("ljspeech", ljspeech_root)
    assert [entry.id for entry in result.entries] == ["LJ001-0001", "LJ001-0002", "LJ002-0010"]
    quoted = by_id(result)["LJ002-0010"]
    assert quoted.transcript == '"He said eighteen twenty-nine, sir."'
    assert quoted.extra == {"original_transcript": '"He said 1829, sir."'}
    assert quoted.speaker == "LJ" and quoted.gender == "female" and quoted.kind == "speech"
    assert quoted.sample_rate == 22050 and quoted.duration == pytest.approx(0.25, abs=1e-3)
    assert by_id(result)["LJ001-0002"].extra == {}
    assert len(result.skipped) == 1 and result.skipped[0].startswith("LJ003-0001")


def test_libritts_reads_texts_genders_and_splits(libritts_root):
    result, _ = run("libritts", libritts_root)
    entries = by_id(result)
    assert sorted(entries) == ["103_1241_000000_000001", "1272_128104_000001_000000"]
    train = entries["103_1241_000000_000001"]
    assert train.transcript == "Matthew Cuthbert is surprised."
    assert train.extra["original_transcript"] == "Matthew Cuthbert is surprised"
    assert (train.speaker, train.gender, train.split) == ("103", "female", "train")
    dev = entries["1272_128104_000001_000000"]
    assert (dev.speaker, dev.gender, dev.split) == ("1272", "male", "val")
    assert "original_transcript" not in dev.extra  # identical to the normalized text
    assert dev.sample_rate == 24000 and dev.duration == pytest.approx(0.3, abs=1e-3)
    assert len(result.skipped) == 1 and "1089_134686_000001_000001" in result.skipped[0]


def test_vctk_092_uses_mic1_and_speaker_info(vctk_root):
    result, _ = run("vctk", vctk_root)
    entries = by_id(result)
    assert sorted(entries) == ["p225_001", "p226_002"]
    p225 = entries["p225_001"]
    assert p225.path == "wav48_silence_trimmed/p225/p225_001_mic1.flac"
    assert p225.transcript == "Please call Stella."
    assert (p225.speaker, p225.gender) == ("p225", "female")
    assert p225.extra == {"accent": "English", "age": 23}
    assert entries["p226_002"].gender == "male"
    assert entries["p226_002"].duration == pytest.approx(0.3, abs=1e-3)
    assert entries["p226_002"].sample_rate == 48000
    assert len(result.skipped) == 1 and result.skipped[0].startswith("p315_001")


def test_vctk_old_layout_with_numeric_speaker_ids(vctk_old_root):
    result, _ = run("vctk", vctk_old_root)
    assert [(e.id, e.gender, e.path) for e in result.entries] == [
        ("p225_001", "female", "wav48/p225/p225_001.wav")]


def test_folder_labels_from_parent_folder(folder_root):
    result, _ = run("folder", folder_root)
    assert [(e.id, e.labels, e.captions) for e in result.entries] == [
        ("cat/meow", ["cat"], []), ("dog/bark1", ["dog"], []), ("dog/bark2", ["dog"], []),
        ("loose", [], [])]
    assert by_id(result)["dog/bark2"].sample_rate == 22050


def test_folder_with_csv_groups_rows_and_reports_missing_files(folder_root, tmp_path, table):
    labels = table(tmp_path / "labels.csv", ["file", "caption", "label", "text", "speaker"], [
        ["dog/bark1.wav", "a dog barks", "dog;animal", "", ""],
        ["dog/bark1.wav", "barking", "dog", "", ""],
        ["cat/meow.wav", "", "", "meow said the cat", "tom"],
        ["gone.wav", "lost", "", "", ""],
    ])
    result, _ = run("folder", folder_root, csv_path=labels)
    entries = by_id(result)
    assert sorted(entries) == ["cat/meow", "dog/bark1"]
    assert entries["dog/bark1"].captions == ["a dog barks", "barking"]
    assert entries["dog/bark1"].labels == ["dog", "animal"]
    assert (entries["cat/meow"].transcript, entries["cat/meow"].speaker) == ("meow said the cat", "tom")
    assert entries["cat/meow"].kind == "speech"
    assert result.skipped == ["labels.csv row 5: no audio file 'gone.wav'"]


def test_limit_no_probe_and_paths_outside_the_manifest_folder(ljspeech_root, tmp_path):
    manifest = tmp_path / "elsewhere" / "m.jsonl"
    result = import_dataset("ljspeech", ljspeech_root, manifest, limit=2, probe=False)
    assert [entry.id for entry in result.entries] == ["LJ001-0001", "LJ001-0002"]
    assert all(entry.duration is None and entry.sample_rate is None for entry in result.entries)
    first = result.entries[0]
    assert first.path == (ljspeech_root / "wavs" / "LJ001-0001.wav").as_posix()  # absolute
    assert resolve_path(first, manifest) == ljspeech_root / "wavs" / "LJ001-0001.wav"


def test_probe_reports_unreadable_audio(ljspeech_root):
    (ljspeech_root / "wavs" / "LJ001-0002.wav").write_bytes(b"this is not a wav file")
    result, _ = run("ljspeech", ljspeech_root)
    assert [entry.id for entry in result.entries] == ["LJ001-0001", "LJ002-0010"]
    assert any(s.startswith("LJ001-0002: unreadable audio") for s in result.skipped)


def test_import_is_deterministic(clotho_root):
    first, _ = run("clotho", clotho_root)
    second, _ = run("clotho", clotho_root)
    assert first == second


@pytest.mark.parametrize("name", ["audiocaps", "clotho", "ljspeech", "vctk"])
def test_wrong_folder_raises_a_clear_error(name, tmp_path):
    with pytest.raises(UnisonoError, match=str(tmp_path)):
        import_dataset(name, tmp_path, tmp_path / "m.jsonl")


def test_bad_arguments(tmp_path):
    with pytest.raises(UnisonoError, match="unknown dataset format 'nope'"):
        import_dataset("nope", tmp_path, tmp_path / "m.jsonl")
    with pytest.raises(UnisonoError, match="not found"):
        import_dataset("folder", tmp_path / "missing", tmp_path / "m.jsonl")
    with pytest.raises(UnisonoError, match="--csv only applies to the 'folder' format"):
        import_dataset("clotho", tmp_path, tmp_path / "m.jsonl", csv_path=tmp_path / "x.csv")
    with pytest.raises(UnisonoError, match="positive"):
        import_dataset("folder", tmp_path, tmp_path / "m.jsonl", limit=0)

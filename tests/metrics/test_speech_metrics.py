"""Speech metrics on rendered world speech: PESQ / STOI bounds, DNSMOS, WER, speaker, removal."""

import numpy as np
import pytest
import torch

from unisono.errors import UnisonoError
from unisono.metrics import (
    Dnsmos,
    Pesq,
    SpeakerSimilarity,
    SpeechRemovalRate,
    Stoi,
    WordErrorRate,
)
from unisono.metrics.speech import PESQ_WB_MAX
from unisono.world.speech import synthesize

SR = 16000
TEXT = "The quick brown fox jumps over the lazy dog near the river."


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return synthesize(TEXT, "flite-slt", sample_rate=SR).audio


@pytest.fixture(scope="module")
def other_voice() -> np.ndarray:
    return synthesize(TEXT, "espeak-en-us-m3", sample_rate=SR).audio


def _noisy(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(audio.shape[0])
    power = np.mean(audio.astype(np.float64) ** 2)
    noise *= np.sqrt(power / np.mean(noise**2) / 10 ** (snr_db / 10))
    return (audio + noise).astype(np.float32)


def test_pesq_of_clean_speech_against_itself_is_the_maximum(speech):
    metric = Pesq()
    metric.update(estimate=speech, reference=speech, sample_rate=SR)
    assert metric.compute()["pesq"] == pytest.approx(PESQ_WB_MAX, abs=1e-6)
    assert PESQ_WB_MAX == pytest.approx(4.644, abs=1e-3)  # P.862.2 MOS-LQO ceiling
    scores = []
    for snr in (30.0, 10.0):
        metric.reset()
        metric.update(estimate=_noisy(speech, snr), reference=speech, sample_rate=SR)
        scores.append(metric.compute()["pesq"])
    assert PESQ_WB_MAX > scores[0] > scores[1] >= 1.0


def test_pesq_resamples_other_rates_to_16k(speech):
    import soxr

    metric = Pesq()
    upsampled = soxr.resample(speech, SR, 48000).astype(np.float32)
    metric.update(estimate=upsampled, reference=upsampled, sample_rate=48000)
    assert metric.compute()["pesq"] == pytest.approx(PESQ_WB_MAX, abs=1e-6)


def test_pesq_without_speech_is_a_clear_error():
    silence = np.zeros(SR, dtype=np.float32)
    with pytest.raises(UnisonoError, match="PESQ"):
        Pesq().update(estimate=silence, reference=silence, sample_rate=SR)


def test_stoi_identical_is_one_and_noise_lowers_it(speech):
    metric = Stoi()
    metric.update(estimate=speech, reference=speech, sample_rate=SR)
    metric.update(estimate=_noisy(speech, -5.0), reference=speech, sample_rate=SR)
    identical, noisy = metric.item_values()
    assert identical == pytest.approx(1.0, abs=1e-6)
    assert noisy < 0.9
    with pytest.raises(UnisonoError, match="STOI"):
        Stoi().update(estimate=speech[:2000], reference=speech[:2000], sample_rate=SR)


def test_dnsmos_ranks_clean_above_noisy(speech):
    metric = Dnsmos()
    metric.update(estimate=speech, sample_rate=SR)
    metric.update(estimate=_noisy(speech, 0.0), sample_rate=SR)
    clean, noisy = metric.scores
    assert set(metric.compute()) == {"dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"}
    assert 1.0 <= noisy["dnsmos_ovrl"] < clean["dnsmos_ovrl"] <= 5.0
    assert noisy["dnsmos_bak"] < clean["dnsmos_bak"] - 1.0
    with pytest.raises(UnisonoError, match=r"\[-1, 1\]"):
        metric.update(estimate=speech * 4, sample_rate=SR)


def test_wer_and_cer_are_corpus_level_after_normalisation():
    answers = iter(["A x c, d!", "e f", "Twenty one cats"])
    metric = WordErrorRate(transcriber=lambda audio, rate: next(answers))
    clip = np.zeros(SR, dtype=np.float32)
    metric.update(estimate=clip, sample_rate=SR, transcript="a b c d")
    metric.update(estimate=clip, sample_rate=SR, transcript="E. F.")
    metric.update(estimate=clip, sample_rate=SR, transcript="21 cats")
    result = metric.compute()
    assert result["wer"] == pytest.approx(1 / 9)  # one substitution in 4 + 2 + 3 words
    assert result["cer"] == pytest.approx(1 / (7 + 3 + 15))  # 'b' -> 'x' over all characters
    assert metric.item_values() == pytest.approx([0.25, 0.0, 0.0])
    with pytest.raises(UnisonoError, match="no words"):
        metric.update(estimate=clip, sample_rate=SR, transcript=" ?! ")


@pytest.mark.slow
def test_wer_of_rendered_piper_and_flite_speech_is_at_most_20_percent():
    """Every piper and flite voice of the world, 20 world sentences each (corpus WER, Whisper-tiny).
    flite-kal is the hardest: 18.4% on these sentences (23.1% on the first 4 alone)."""
    from unisono.world.speech import VOICES
    from unisono.world.text import sentence

    torch.set_num_threads(1)
    rng = np.random.default_rng(6)
    texts = [sentence(rng) for _ in range(20)]
    voices = sorted(v.id for v in VOICES.values() if v.engine in ("piper", "flite"))
    assert len(voices) == 5, voices
    for voice in voices:
        metric = WordErrorRate()
        for text in texts:
            metric.update(estimate=synthesize(text, voice, sample_rate=SR).audio, sample_rate=SR,
                          transcript=text)
        assert metric.compute()["wer"] <= 0.20, (voice, metric.hypotheses)


def test_speaker_similarity_same_voice_above_other_voice(speech, other_voice):
    torch.set_num_threads(1)
    metric = SpeakerSimilarity()
    metric.update(estimate=speech, reference=speech, sample_rate=SR)
    metric.update(estimate=other_voice, reference=speech, sample_rate=SR)  # lengths differ: fine
    same, other = metric.item_values()
    assert same == pytest.approx(1.0, abs=1e-6)
    assert other < 0.85
    assert metric.compute()["speaker_similarity"] == pytest.approx((same + other) / 2)


def test_speech_removal_rate_counts_clips_without_speech(speech):
    rng = np.random.default_rng(1)
    t = np.arange(2 * SR) / SR
    hum = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    noise = (0.1 * rng.standard_normal(2 * SR)).astype(np.float32)
    heard = []

    def transcriber(audio, rate):
        heard.append(audio.shape[0] / rate)
        return "the quick brown fox"

    metric = SpeechRemovalRate(transcriber=transcriber)
    for clip in (hum, noise, speech, np.zeros(SR, np.float32)):
        metric.update(estimate=clip, sample_rate=SR)
    assert metric.item_values() == [1.0, 1.0, 0.0, 1.0]
    assert metric.compute()["speech_removal_rate"] == pytest.approx(0.75)
    assert len(heard) == 1 and heard[0] <= speech.shape[0] / SR + 1.0  # only VAD regions


@pytest.mark.slow
def test_speech_removal_rate_with_whisper(speech):
    torch.set_num_threads(1)
    metric = SpeechRemovalRate()
    quiet_bed = (0.02 * np.random.default_rng(2).standard_normal(3 * SR)).astype(np.float32)
    metric.update(estimate=quiet_bed, sample_rate=SR)
    metric.update(estimate=_noisy(speech, 10.0), sample_rate=SR)
    assert metric.item_values() == [1.0, 0.0]


def test_dnsmos_takes_a_full_scale_clip_whose_resampling_overshoots(speech):
    rate = 22050  # resampled to 16 kHz, a square wave at full scale rings past +-1
    square = np.sign(np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    metric = Dnsmos()
    metric.update(estimate=square, sample_rate=rate)
    assert 1.0 <= metric.compute()["dnsmos_ovrl"] <= 5.0

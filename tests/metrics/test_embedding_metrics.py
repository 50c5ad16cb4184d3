"""FD / FAD against closed forms and the aiSFX package; KL / IS against closed forms."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from unisono.errors import UnisonoError
from unisono.metrics import (
    AisfxEmbedder,
    FrechetAudioDistance,
    FrechetDistance,
    InceptionScore,
    KLDivergence,
    LocalEmbedder,
    frechet_distance,
)
from unisono.metrics.embedding import aisfx_blocks, aisfx_spectrogram

SR = 16000


def _closed_form_diagonal(mean_a, var_a, mean_b, var_b):
    trace_term = np.sum(var_a + var_b - 2 * np.sqrt(var_a * var_b))
    return float(np.sum((mean_a - mean_b) ** 2) + trace_term)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    mean_a, var_a = np.array([0.0, 1.0, -2.0]), np.array([1.0, 4.0, 0.25])
    mean_b, var_b = np.array([1.0, 1.0, 0.0]), np.array([9.0, 1.0, 0.25])
    value = frechet_distance(mean_a, np.diag(var_a), mean_b, np.diag(var_b))
    assert value == pytest.approx(_closed_form_diagonal(mean_a, var_a, mean_b, var_b), rel=1e-10)
    assert value == pytest.approx(1 + 4 + (1 + 9 - 6) + (4 + 1 - 4) + 0, rel=1e-10)


def test_frechet_distance_of_non_commuting_covariances():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 5, 5))
    cov_a, cov_b = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    # Tr sqrt(A B) = Tr sqrt(A^1/2 B A^1/2), a symmetric PSD matrix: sum of sqrt of eigenvalues
    vals, vecs = np.linalg.eigh(cov_a)
    root_a = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
    trace_root = np.sum(np.sqrt(np.linalg.eigvalsh(root_a @ cov_b @ root_a)))
    expected = np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root + 4.0
    mean_b = np.array([2.0, 0, 0, 0, 0])
    assert frechet_distance(np.zeros(5), cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mean_b, cov_b, mean_b, cov_b) == pytest.approx(0.0, abs=1e-9)


def _frames_embedder(width):
    """Reads the clip as (S / width, width) frames: the embeddings are the samples themselves."""

    class Frames:
        name = "frames"
        sample_rate = SR

        def __call__(self, audio, sample_rate):
            return audio.reshape(-1, width).astype(np.float64)

    return Frames()


def test_fad_of_two_gaussian_sets_approaches_the_closed_form():
    rng = np.random.default_rng(7)
    mean_a, std_a = np.array([0.0, 0.5]), np.array([1.0, 0.5])
    mean_b, std_b = np.array([0.3, 0.0]), np.array([0.5, 1.0])
    metric = FrechetAudioDistance(_frames_embedder(2))
    for _ in range(20):  # 20 clips of 2000 frames each
        a = (mean_a + std_a * rng.standard_normal((2000, 2))).astype(np.float32).ravel()
        b = (mean_b + std_b * rng.standard_normal((2000, 2))).astype(np.float32).ravel()
        metric.update(estimate=a, reference=b, sample_rate=SR)
    expected = _closed_form_diagonal(mean_a, std_a**2, mean_b, std_b**2)  # 0.34
    assert metric.compute()["fad"] == pytest.approx(expected, abs=0.01)


def test_fd_uses_one_mean_embedding_per_clip():
    metric = FrechetDistance(_frames_embedder(2))
    clips = [np.array([0, 0, 2, 2], np.float32), np.array([1, 3, 1, 3], np.float32),
             np.array([4, 0, 4, 0], np.float32)]
    for clip in clips:
        metric.update(estimate=clip, sample_rate=SR)
    for clip in clips[:2]:
        metric.update(reference=clip, sample_rate=SR)
    means_a = np.array([[1, 1], [1, 3], [4, 0]], float)
    means_b = means_a[:2]
    expected = frechet_distance(means_a.mean(0), np.cov(means_a.T), means_b.mean(0),
                                np.cov(means_b.T))
    assert metric.compute()["fd"] == pytest.approx(expected, rel=1e-10)


def test_sets_need_two_samples_and_equal_widths():
    metric = FrechetDistance(_frames_embedder(2))
    metric.add_embeddings(estimate=np.ones((1, 2)), reference=np.ones((1, 2)))
    with pytest.raises(UnisonoError, match="at least 2"):
        metric.compute()
    with pytest.raises(UnisonoError, match="width 3"):
        metric.add_embeddings(reference=np.zeros((1, 3)))
    with pytest.raises(UnisonoError, match="NaN"):
        metric.add_embeddings(estimate=np.full((2, 2), np.nan))


@pytest.fixture(scope="module")
def sound_set() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    t = np.arange(3 * SR) / SR
    clips = [0.3 * np.sin(2 * np.pi * f * t) * np.exp(-t) for f in (220, 1760)]
    clips += [0.2 * rng.standard_normal(3 * SR), 0.2 * np.cumsum(rng.standard_normal(3 * SR)) / 50]
    return [clip.astype(np.float32) for clip in clips]


def test_fd_and_fad_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(2)
    clips = [(rng.standard_normal(4000) * rng.uniform(0.1, 1, size=8).repeat(500))
             .astype(np.float32) for _ in range(12)]
    fd, fad = FrechetDistance(_frames_embedder(8)), FrechetAudioDistance(_frames_embedder(8))
    for clip in clips:
        fd.update(estimate=clip, reference=clip, sample_rate=SR)
        fad.update(estimate=clip, reference=clip, sample_rate=SR)
    assert fd.compute()["fd"] == pytest.approx(0.0, abs=1e-9)
    assert fad.compute()["fad"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow  # a 512 x 512 sqrtm takes seconds on a shared CPU
def test_aisfx_fd_and_fad_of_a_set_with_itself_is_zero(sound_set):
    torch.set_num_threads(1)
    embeddings = [AisfxEmbedder()(clip, SR) for clip in sound_set]  # (F, 512) each
    fd, fad = FrechetDistance(), FrechetAudioDistance()
    for frames in embeddings:
        fd.add_embeddings(estimate=frames, reference=frames)
        fad.add_embeddings(estimate=frames, reference=frames)
    assert fd.compute()["fd"] == pytest.approx(0.0, abs=1e-6)
    assert fad.compute()["fad"] == pytest.approx(0.0, abs=1e-6)


def test_aisfx_front_end_matches_the_package(tmp_path):
    from aisfx.preprocessing import blocking, spectrogram_normalize
    from aisfx.spectrogram.spectrogram_librosa import compute_spectrogram

    rng = np.random.default_rng(5)
    clip = (0.1 * rng.standard_normal(6 * 44100) * np.linspace(0, 1, 6 * 44100)).astype(np.float32)
    path = tmp_path / "clip.wav"  # 6 s at the package's own rate: several blocks, no resampling
    sf.write(path, clip, 44100, subtype="FLOAT")
    audio, rate = sf.read(path, dtype="float32")
    package = compute_spectrogram(str(path), sr=44100, block_size=2048, hop_size=1024, n_mels=96,
                                  f_min=0.0, f_max=22050.0)
    ours = aisfx_spectrogram(audio, rate)
    # the package's librosa path returns (mels, frames); its network reads (frames, mels)
    np.testing.assert_allclose(ours, spectrogram_normalize(package).T, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(aisfx_blocks(ours), blocking(ours, 100, 50, True))
    assert AisfxEmbedder()(audio, rate).shape == (aisfx_blocks(ours).shape[0], 512)


class FixedClassifier:
    """Returns the distribution stored for a clip, keyed by its first sample."""

    name = "fixed"

    def __init__(self, table):
        self.table = {key: np.asarray(value, float) for key, value in table.items()}

    def __call__(self, audio, sample_rate):
        return self.table[round(float(audio[0]), 3)]


def _clip(key):
    return np.full(SR // 10, key, dtype=np.float32)


def test_kl_divergence_closed_form():
    classifier = FixedClassifier({0.1: [0.5, 0.5], 0.2: [0.9, 0.1], 0.3: [0.25, 0.75]})
    metric = KLDivergence(classifier)
    metric.update(estimate=_clip(0.2), reference=_clip(0.1), sample_rate=SR)
    metric.update(estimate=_clip(0.3), reference=_clip(0.3), sample_rate=SR)
    first = 0.5 * np.log(0.5 / (0.9 + 1e-6)) + 0.5 * np.log(0.5 / (0.1 + 1e-6))
    second = 0.25 * np.log(0.25 / (0.25 + 1e-6)) + 0.75 * np.log(0.75 / (0.75 + 1e-6))
    assert metric.compute()["kl"] == pytest.approx((first + second) / 2, rel=1e-9)
    # paired clips need not have the same length
    metric.update(estimate=_clip(0.1)[:10], reference=_clip(0.1), sample_rate=SR)


def test_inception_score_closed_forms():
    one_hot = FixedClassifier({0.1: [1, 0, 0, 0], 0.2: [0, 1, 0, 0], 0.3: [0, 0, 1, 0],
                               0.4: [0, 0, 0, 1], 0.5: [0.25, 0.25, 0.25, 0.25]})
    confident = InceptionScore(one_hot)
    for key in (0.1, 0.2, 0.3, 0.4) * 2:
        confident.update(estimate=_clip(key), sample_rate=SR)
    assert confident.compute()["is"] == pytest.approx(4.0, rel=1e-12)  # = number of classes
    split = InceptionScore(one_hot, splits=2)
    for key in (0.1, 0.2, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3):
        split.update(estimate=_clip(key), sample_rate=SR)
    assert split.compute() == pytest.approx({"is": (2.0 + 1.0) / 2, "is_std": 0.5})
    uncertain = InceptionScore(one_hot)
    for _ in range(3):
        uncertain.update(estimate=_clip(0.5), sample_rate=SR)
    assert uncertain.compute()["is"] == pytest.approx(1.0)


def test_classifier_must_return_probabilities():
    metric = KLDivergence(lambda audio, rate: np.array([2.0, -1.0]))
    with pytest.raises(UnisonoError, match="logits"):
        metric.update(estimate=_clip(0.1), reference=_clip(0.1), sample_rate=SR)
    with pytest.raises(UnisonoError, match="splits"):
        InceptionScore(lambda audio, rate: np.ones(2) / 2, splits=0)


class TinyEmbedder(torch.nn.Module):
    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        frames = audio[:, : audio.shape[1] // 160 * 160].reshape(-1, 160)
        return torch.stack([frames.mean(dim=1), frames.std(dim=1)], dim=1)


def test_local_torchscript_embedder(tmp_path, sound_set):
    torch.jit.save(torch.jit.script(TinyEmbedder()), tmp_path / "model.pt")
    (tmp_path / "embedder.json").write_text(json.dumps(
        {"format": "torchscript", "sample_rate": 8000, "name": "tiny"}))
    embedder = LocalEmbedder(tmp_path)
    frames = embedder(sound_set[2], SR)  # resampled to 8 kHz: 24000 samples -> 150 frames
    assert embedder.name == "tiny" and frames.shape == (150, 2)
    # white noise of std 0.2 keeps half its power at half the rate
    assert frames[:, 1].mean() == pytest.approx(0.2 / np.sqrt(2), rel=0.05)
    fad = FrechetAudioDistance(embedder)
    fad.update(estimate=sound_set[2], reference=sound_set[2], sample_rate=SR)
    assert fad.compute()["fad"] == pytest.approx(0.0, abs=1e-9)


def test_local_embedder_config_errors(tmp_path):
    with pytest.raises(UnisonoError, match="embedder.json"):
        LocalEmbedder(tmp_path)
    (tmp_path / "embedder.json").write_text(json.dumps({"format": "torchscript", "rate": 1}))
    with pytest.raises(UnisonoError, match="unknown key.*rate"):
        LocalEmbedder(tmp_path)
    (tmp_path / "embedder.json").write_text(json.dumps({"format": "vggish-magic"}))
    with pytest.raises(UnisonoError, match="format must be one of"):
        LocalEmbedder(tmp_path)
    (tmp_path / "embedder.json").write_text(json.dumps({"format": "torchscript",
                                                         "sample_rate": 16000}))
    with pytest.raises(UnisonoError, match="model.pt not found"):
        LocalEmbedder(tmp_path)


def test_local_hf_clap_embedder_windows_long_clips(tmp_path):
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
    )

    text = ClapTextConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=37, projection_dim=16,
                          max_position_embeddings=64)
    audio = ClapAudioConfig(depths=[1, 1], num_attention_heads=[2, 2], hidden_size=32,
                            patch_embeds_hidden_size=16, window_size=4, spec_size=64,
                            num_mel_bins=16, projection_dim=16, patch_stride=(4, 4), patch_size=4)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ClapModel(ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(),
                                     projection_dim=16))
    model.save_pretrained(tmp_path)
    ClapFeatureExtractor(feature_size=16, sampling_rate=48000, hop_length=480, max_length_s=1,
                         truncation="rand_trunc").save_pretrained(tmp_path)
    (tmp_path / "embedder.json").write_text(json.dumps({"format": "hf_clap", "name": "tiny-clap"}))
    embedder = LocalEmbedder(tmp_path)
    clip = (0.1 * np.random.default_rng(0).standard_normal(40000)).astype(np.float32)
    frames = embedder(clip, SR)  # 2.5 s -> two 1 s windows; the 0.5 s rest is dropped
    assert embedder.sample_rate == 48000 and frames.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(frames, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(frames, embedder(clip, SR))  # no random crop

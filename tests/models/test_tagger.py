"""The reference tagger: shapes, padding and window invariance, persistence, errors, and the
shipped weights recognising freshly rendered world events."""

import json

import numpy as np
import pytest
import torch

from unisono.audio import resample
from unisono.errors import UnisonoError
from unisono.models.refnet import BackboneConfig, MelConfig, compute_log_mel, split_windows
from unisono.models.tagger import HEADS, Tagger, TaggerConfig, default_tagger_dir

EVENTS = ["dog bark", "siren", "rain", "speech"]
INSTRUMENTS = ["piano", "violin", "drums"]
VOICES = ["voice-a", "voice-b", "none"]


def tiny_config(**overrides) -> TaggerConfig:
    config = TaggerConfig(backbone=BackboneConfig(channels=(4, 8, 8), dropout=0.0), events=EVENTS,
                          instruments=INSTRUMENTS, voices=VOICES, hidden=16, window_seconds=2.0,
                          window_hop_seconds=1.0)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def tagger() -> Tagger:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Tagger(tiny_config())
        for module in model.modules():  # non-trivial batch-norm statistics, as after training
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0.0, 0.3)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def _noise(seconds: float, seed: int, sample_rate: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(seconds * sample_rate))).astype(np.float32)


def test_heads_have_one_column_per_label_and_proper_probabilities(tagger: Tagger) -> None:
    prediction = tagger.predict([_noise(1.5, 0), _noise(0.7, 1), _noise(3.2, 2)], 16000)
    assert len(prediction) == 3
    for head, activation in HEADS.items():
        probabilities = prediction.probabilities[head]
        assert probabilities.shape == (3, len(tagger.config.labels(head)))
        assert np.all((probabilities >= 0) & (probabilities <= 1))
        if activation == "softmax":
            np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert prediction.top("voice", k=3)[0][1] >= prediction.top("voice", k=3)[-1][1]
    assert set(prediction.to_dict(2)) == set(HEADS)
    assert prediction.score("event", "siren").shape == (3,)


def test_a_clip_in_a_padded_batch_gives_its_own_output(tagger: Tagger) -> None:
    clips = [_noise(0.4, 3), _noise(1.9, 4), _noise(1.1, 5)]
    together = tagger.predict(clips, 16000)
    for index, clip in enumerate(clips):
        alone = tagger.predict(clip, 16000)
        for head in HEADS:  # equal up to float rounding (batched kernels sum in another order)
            np.testing.assert_allclose(together.probabilities[head][index],
                                       alone.probabilities[head][0], rtol=0, atol=1e-6)


def test_long_clips_are_windowed_and_max_pooled(tagger: Tagger) -> None:
    clip = _noise(5.3, 6)
    mel = compute_log_mel(clip, 16000, tagger.config.mel)
    windows = split_windows(mel, 100, 50)  # 2 s windows every 1 s at 50 frames/s
    assert windows[-1].shape[1] == 100 and len(windows) == 5  # the last one ends at the clip end
    per_window = tagger.predict_mels(windows)
    whole = tagger.predict(clip, 16000)
    np.testing.assert_allclose(whole.probabilities["event"][0],
                               per_window.probabilities["event"].max(axis=0), rtol=1e-6)
    lengths = np.array([w.shape[1] for w in windows], dtype=float)
    expected_voice = np.average(per_window.probabilities["voice"], axis=0, weights=lengths)
    np.testing.assert_allclose(whole.probabilities["voice"][0], expected_voice, rtol=1e-5)


def test_other_sample_rates_are_resampled_first(tagger: Tagger) -> None:
    clip_44k = _noise(1.2, 7, sample_rate=44100)
    direct = tagger.predict(clip_44k, 44100)
    by_hand = tagger.predict(resample(clip_44k, 44100, 16000), 16000)
    np.testing.assert_array_equal(direct.probabilities["event"], by_hand.probabilities["event"])
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32) * 0.3
    tone_48k = np.sin(2 * np.pi * 440 * np.arange(48000) / 48000).astype(np.float32) * 0.3
    np.testing.assert_allclose(tagger.predict(tone_48k, 48000).probabilities["event"],
                               tagger.predict(tone, 16000).probabilities["event"], atol=2e-3)


def test_save_and_load_give_identical_predictions(tagger: Tagger, tmp_path) -> None:
    clip = _noise(2.5, 8)
    tagger.save_pretrained(tmp_path / "fp32")
    loaded = Tagger.from_pretrained(tmp_path / "fp32")
    assert loaded.config == tagger.config
    assert json.loads((tmp_path / "fp32" / "config.json").read_text())["events"] == EVENTS
    for head in HEADS:
        np.testing.assert_array_equal(loaded.predict(clip, 16000).probabilities[head],
                                      tagger.predict(clip, 16000).probabilities[head])
    tagger.save_pretrained(tmp_path / "fp16", half=True)
    half = Tagger.from_pretrained(tmp_path / "fp16")
    assert half.backbone.stem.conv.weight.dtype == torch.float32
    for key, value in tagger.state_dict().items():
        if value.is_floating_point():
            np.testing.assert_allclose(half.state_dict()[key], value.half().float())


def test_bad_input_raises_a_clear_error(tagger: Tagger, tmp_path) -> None:
    with pytest.raises(UnisonoError, match="empty"):
        tagger.predict(np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(UnisonoError, match="NaN"):
        tagger.predict(np.full(1600, np.nan, dtype=np.float32), 16000)
    with pytest.raises(UnisonoError, match="channels"):
        tagger.predict(np.zeros((16000, 2), dtype=np.float32), 16000)
    with pytest.raises(UnisonoError, match="sample rate"):
        tagger.predict(np.zeros(1600, dtype=np.float32), 0)
    prediction = tagger.predict(_noise(0.5, 9), 16000)
    with pytest.raises(UnisonoError, match="did you mean|Did you mean"):
        prediction.score("event", "dog barks")
    with pytest.raises(UnisonoError, match="head"):
        prediction.top("mood")
    with pytest.raises(UnisonoError, match="not a tagger folder"):
        Tagger.from_pretrained(tmp_path)
    with pytest.raises(UnisonoError, match="no labels"):
        Tagger(tiny_config(instruments=[]))


def test_mel_features_match_the_metric_log_mel() -> None:
    from unisono.audio import log_mel

    clip = _noise(1.0, 10)
    config = MelConfig()
    expected = log_mel(clip, 16000, n_fft=1024, hop=320, n_mels=64).numpy()
    np.testing.assert_array_equal(compute_log_mel(clip, 16000, config), expected)
    assert expected.shape == (64, 51)  # centred STFT: 1 + 16000 // 320 frames


# ----- the shipped weights ---------------------------------------------------------------------
SHIPPED_CASES = [("dog bark", 3), ("church bell", 1), ("siren", None), ("car horn", 2),
                 ("rain", None), ("knocking", 4)]


def _render_single_event(name: str, count: int | None, seed: int) -> np.ndarray:
    from unisono.world.render import SceneRenderer
    from unisono.world.scene import EventLayer, SceneSpec

    spec = SceneSpec(id=f"test-{name}", kind="sfx", split="test", seed=seed, sample_rate=16000,
                     duration=3.5, events=[EventLayer(name=name, onset=0.3, duration=2.8,
                                                      level_db=-22.0, seed=seed, count=count)])
    return SceneRenderer().render(spec).mix


@pytest.fixture(scope="module")
def shipped() -> Tagger:
    if not (default_tagger_dir() / "config.json").is_file():
        pytest.fail("no shipped tagger in src/unisono/assets/tagger: train and copy one "
                    "(docs/evaluation.md)")
    return Tagger.from_pretrained()


def test_shipped_tagger_recognises_fresh_world_events(shipped: Tagger) -> None:
    clips = [_render_single_event(name, count, seed=1000 + i)
             for i, (name, count) in enumerate(SHIPPED_CASES)]
    prediction = shipped.predict(clips, 16000)
    for index, (name, _) in enumerate(SHIPPED_CASES):
        assert prediction.top("event", index=index)[0][0] == name, prediction.top("event", 3, index=index)
        assert prediction.top("voice", index=index)[0][0] == "none"
        assert prediction.top("gender", index=index)[0][0] == "none"


def test_shipped_tagger_has_every_world_label(shipped: Tagger) -> None:
    from unisono.world import music, sfx, speech

    assert set(sfx.EVENT_CLASSES) <= set(shipped.config.events)
    assert set(music.INSTRUMENTS) | {"drums"} == set(shipped.config.instruments)
    assert set(speech.VOICES) | {"none"} == set(shipped.config.voices)
    assert sum(p.numel() * 2 for p in shipped.state_dict().values()) <= 20 * 2**20


# ----- the aiSFX probe fused into the event head ----------------------------------------------
def _probed(weight: float, bias: float) -> tuple[Tagger, Tagger]:
    """A tagger without a probe and its twin with a constant-logit probe (zero weights)."""
    from unisono.models.tagger import ProbeConfig

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        plain = Tagger(tiny_config()).eval()
    probed = Tagger(tiny_config(probe=ProbeConfig(weight=weight))).eval()
    state = {**plain.state_dict(), "probe.weight": torch.zeros(len(EVENTS), 1024),
             "probe.bias": torch.full((len(EVENTS),), bias), "probe_mean": torch.zeros(1024),
             "probe_std": torch.ones(1024)}
    probed.load_state_dict(state)
    return plain, probed


def test_probe_fusion_follows_its_formula() -> None:
    pytest.importorskip("aisfx")
    clip = _noise(1.5, seed=3)
    for weight, bias in ((0.0, 2.0), (0.7, -1.5), (1.0, 0.25)):
        plain, probed = _probed(weight, bias)
        cnn = np.clip(plain.predict(clip, 16000).probabilities["event"].astype(np.float64), 1e-6, 1 - 1e-6)
        expected = 1.0 / (1.0 + np.exp(-((1 - weight) * np.log(cnn / (1 - cnn)) + weight * bias)))
        got = probed.predict(clip, 16000)
        np.testing.assert_allclose(got.probabilities["event"], expected, rtol=1e-5, atol=1e-6)
        # the other heads are the CNN's
        np.testing.assert_array_equal(got.probabilities["gender"], plain.predict(clip, 16000).probabilities["gender"])


def test_probe_features_are_pooled_aisfx_frames_at_the_probe_rate() -> None:
    pytest.importorskip("aisfx")
    from unisono.metrics.embedding import AisfxEmbedder

    _, probed = _probed(0.5, 0.0)
    clip = _noise(3.0, seed=4, sample_rate=32000)
    frames = AisfxEmbedder()(resample(clip, 32000, 16000), 16000)
    features = probed.probe_features([clip], 32000)
    np.testing.assert_allclose(features[0], np.concatenate([frames.mean(0), frames.max(0)]), rtol=1e-5, atol=1e-6)


def test_probed_tagger_round_trips_and_rejects_missing_features(tmp_path) -> None:
    pytest.importorskip("aisfx")
    from unisono.models.tagger import ProbeConfig

    _, probed = _probed(0.7, 1.0)
    clip = _noise(1.0, seed=5)
    loaded = Tagger.from_pretrained(probed.save_pretrained(tmp_path / "probed"))
    assert loaded.config.probe == probed.config.probe
    np.testing.assert_array_equal(loaded.predict(clip, 16000).probabilities["event"],
                                  probed.predict(clip, 16000).probabilities["event"])
    mel = compute_log_mel(clip, 16000, probed.config.mel)
    with pytest.raises(UnisonoError, match="probe_features"):
        probed.predict_mels([mel])
    with pytest.raises(UnisonoError, match="probe weight"):
        Tagger(tiny_config(probe=ProbeConfig(weight=1.5)))


def test_a_shared_embedder_feeds_the_probe_only_when_it_is_aisfx() -> None:
    class Counting:
        """An embedder returning fixed frames and counting its calls."""

        def __init__(self, name: str) -> None:
            self.name, self.calls = name, 0

        def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
            self.calls += 1
            return np.arange(2 * 512, dtype=np.float64).reshape(2, 512)

    plain, probed = _probed(0.5, 0.0)
    aisfx, other = Counting("aisfx"), Counting("vggish")
    assert not probed.share_probe_embedder(other) and probed.probe_embedder is None
    assert not plain.share_probe_embedder(aisfx)  # no probe to feed
    assert probed.share_probe_embedder(aisfx)
    features = probed.probe_features([_noise(1.0, seed=6)], 16000)
    assert aisfx.calls == 1 and other.calls == 0
    np.testing.assert_array_equal(features[0, :512], np.arange(256, 768))  # the frames' mean
    np.testing.assert_array_equal(features[0, 512:], np.arange(512, 1024))  # and max

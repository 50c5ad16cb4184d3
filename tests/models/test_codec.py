"""Codec shapes, length bookkeeping, chunking, persistence and input errors."""

import math

import numpy as np
import pytest
import torch
from codec_fixtures import tiny_frame_config, tiny_waveform_config

from unisono.config import load_config
from unisono.errors import UnisonoError
from unisono.models.codec import Codec, CodecConfig, codec_preset
from unisono.models.codec.bottleneck import DiagonalGaussianBottleneck


def test_presets_match_the_design():
    tiny, wave = codec_preset("tiny"), codec_preset("waveform")
    assert (tiny.sample_rate, tiny.hop, tiny.latent_channels, tiny.frame_rate) == (
        16000,
        320,
        32,
        50,
    )
    assert (wave.sample_rate, wave.hop, wave.latent_channels, wave.frame_rate) == (
        24000,
        480,
        128,
        50,
    )
    params = sum(p.numel() for p in Codec(tiny).parameters())
    assert 3e6 <= params <= 8e6
    tiny.frame.width = 1  # presets are copies: mutating one leaves the registry alone
    assert codec_preset("tiny").frame.width == 256


def test_the_tiny_up2_preset_is_the_shipped_codecs_architecture():
    import dataclasses

    from unisono.codec_files import default_codec_dir
    from unisono.config import load_config

    shipped = load_config(CodecConfig, default_codec_dir() / "config.json")
    # the latent scale is measured on the training data, not part of the architecture
    assert dataclasses.replace(codec_preset("tiny-up2"), latent_scale=shipped.latent_scale) == shipped
    assert codec_preset("tiny").frame.decoder_upsample == 1  # the first shipped decoder


@pytest.mark.parametrize("make", [tiny_frame_config, tiny_waveform_config])
@pytest.mark.parametrize("extra", [-1, 7])
def test_lengths_every_preset(make, extra):
    config = make()
    codec = Codec(config)
    num_samples = 3 * config.hop + extra
    audio = torch.randn(2, num_samples) * 0.1
    out = codec(audio, sample=True, generator=torch.Generator().manual_seed(0))
    assert out.audio.shape == (2, num_samples)
    assert out.latent.shape == (2, config.latent_channels, math.ceil(num_samples / config.hop))
    out.audio.square().mean().backward()  # the waveform preset must train too
    latent = codec.encode(audio)
    assert latent.shape[-1] == config.latent_frames(num_samples)
    assert codec.decode(latent).shape == (2, latent.shape[-1] * config.hop)


def test_sampling_uses_the_given_generator(frame_codec):
    audio = torch.randn(1, 1600)
    a = frame_codec(audio, sample=True, generator=torch.Generator().manual_seed(3)).audio
    b = frame_codec(audio, sample=True, generator=torch.Generator().manual_seed(3)).audio
    c = frame_codec(audio, sample=True, generator=torch.Generator().manual_seed(4)).audio
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_kl_is_zero_for_a_standard_normal_posterior():
    latent_channels, frames = 4, 5
    scale = math.log(math.expm1(1.0 - 1e-4))  # softplus(scale) + 1e-4 == 1
    params = torch.cat(
        [torch.zeros(1, latent_channels, frames), torch.full((1, latent_channels, frames), scale)],
        dim=1,
    )
    assert DiagonalGaussianBottleneck()(params, sample=False).kl.abs().item() < 1e-5
    shifted = params.clone()
    shifted[:, :latent_channels] = 2.0  # KL = 0.5 * mean^2 per channel
    assert DiagonalGaussianBottleneck()(shifted, sample=False).kl.item() == pytest.approx(
        0.5 * 4.0 * latent_channels, rel=1e-4
    )


def test_chunked_equals_whole_frame_codec(frame_codec):
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 3 + 123)).astype(np.float32)
    whole_latent = frame_codec.encode(torch.from_numpy(audio)[None])[0]
    chunked_latent = frame_codec.encode_audio(audio, 16000, chunk_frames=29)
    assert chunked_latent.shape == (32, math.ceil(audio.shape[0] / 320))
    torch.testing.assert_close(chunked_latent, whole_latent, atol=1e-5, rtol=1e-4)
    whole = frame_codec.decode(whole_latent[None])[0, : audio.shape[0]].detach().numpy()
    chunked = frame_codec.decode_latent(chunked_latent, num_samples=audio.shape[0], chunk_frames=31)
    assert chunked.shape == audio.shape
    # stated tolerance: 1e-4 of the output peak
    assert np.max(np.abs(chunked - whole)) <= 1e-4 * np.max(np.abs(whole))


def test_chunked_waveform_codec_keeps_lengths(waveform_codec):
    audio = (0.1 * np.random.default_rng(1).standard_normal(24000 + 17)).astype(np.float32)
    latent = waveform_codec.encode_audio(audio, 24000, chunk_frames=20)
    assert latent.shape == (8, math.ceil(audio.shape[0] / 480))
    decoded = waveform_codec.decode_latent(latent, num_samples=audio.shape[0], chunk_frames=20)
    assert decoded.shape == audio.shape and np.all(np.isfinite(decoded))


def test_other_sample_rates_are_resampled(frame_codec):
    audio = (0.1 * np.random.default_rng(2).standard_normal(44100)).astype(np.float32)
    latent = frame_codec.encode_audio(audio, 44100)
    assert latent.shape[1] == math.ceil(16000 / 320)
    out = frame_codec.roundtrip(audio, 44100)
    assert out.shape == audio.shape and out.dtype == np.float32


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.array([0.1, np.nan, 0.2] * 400, dtype=np.float32), "NaN"),
        (np.zeros((100, 2), dtype=np.float32), "mono"),
    ],
)
def test_bad_inputs_raise_clear_errors(frame_codec, bad, message):
    with pytest.raises(UnisonoError, match=message):
        frame_codec.encode_audio(bad, 16000)


def test_decode_rejects_foreign_latents(frame_codec):
    with pytest.raises(UnisonoError, match="different codec"):
        frame_codec.decode(torch.zeros(1, 7, 10))
    with pytest.raises(UnisonoError, match="NaN"):
        frame_codec.decode_latent(torch.full((32, 4), float("nan")))


def test_save_load_round_trip_is_bit_exact(frame_codec, tmp_path):
    frame_codec.config.latent_scale = 0.75
    ema = {k: v + 1.0 if v.is_floating_point() else v for k, v in frame_codec.state_dict().items()}
    frame_codec.save_pretrained(tmp_path / "codec", ema_state=ema)
    assert sorted(p.name for p in (tmp_path / "codec").iterdir()) == [
        "config.json",
        "ema.safetensors",
        "model.safetensors",
    ]
    raw = Codec.from_pretrained(tmp_path / "codec", weights="model")
    assert raw.config == frame_codec.config
    for key, value in frame_codec.state_dict().items():
        assert torch.equal(raw.state_dict()[key], value)
    averaged = Codec.from_pretrained(tmp_path / "codec")  # EMA weights by default
    for key, value in ema.items():
        assert torch.equal(averaged.state_dict()[key], value)
    audio = (0.1 * np.random.default_rng(3).standard_normal(4000)).astype(np.float32)
    assert torch.equal(raw.encode_audio(audio, 16000), frame_codec.encode_audio(audio, 16000))


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(UnisonoError, match="not a codec folder"):
        Codec.from_pretrained(tmp_path)
    Codec(tiny_frame_config()).save_pretrained(tmp_path / "a")
    (tmp_path / "a" / "model.safetensors").unlink()
    with pytest.raises(UnisonoError, match="missing"):
        Codec.from_pretrained(tmp_path / "a")


def test_config_validation():
    with pytest.raises(UnisonoError, match="multiply"):
        CodecConfig(architecture="waveform", hop=320)  # default strides multiply to 480
    with pytest.raises(UnisonoError, match="n_fft"):
        CodecConfig(hop=320, frame=codec_preset("tiny").frame.__class__(n_fft=321))
    frame = codec_preset("tiny").frame.__class__
    with pytest.raises(UnisonoError, match="divide the hop"):
        CodecConfig(hop=320, frame=frame(decoder_upsample=3))
    with pytest.raises(UnisonoError, match="decoder_n_fft"):
        CodecConfig(hop=320, frame=frame(decoder_upsample=2, decoder_n_fft=100))
    with pytest.raises(UnisonoError, match="cumulative"):
        CodecConfig(hop=320, frame=frame(decoder_upsample=2, phase="cumulative"))
    assert CodecConfig(frame=frame(decoder_upsample=2)).frame.synthesis_n_fft == 640


def test_upsampled_decoder_lengths_and_chunking():
    """U decoder frames per latent frame: same output length, chunked equals whole."""
    config = tiny_frame_config()
    config.frame.decoder_upsample, config.frame.decoder_n_fft = 4, 320
    torch.manual_seed(0)
    codec = Codec(config).eval()
    assert (codec.decoder.hop, codec.decoder.n_fft, codec.decoder.bins) == (80, 320, 161)
    latent = torch.randn(2, 32, 9)
    assert codec.decoder.spectrum(latent).shape == (2, 161, 36)
    assert codec.decode(latent).shape == (2, 9 * 320)
    audio = (0.1 * np.random.default_rng(3).standard_normal(16000 * 2 + 45)).astype(np.float32)
    z = codec.encode_audio(audio, 16000)
    whole = codec.decode_latent(z, num_samples=audio.shape[0], chunk_frames=10_000)
    chunked = codec.decode_latent(z, num_samples=audio.shape[0], chunk_frames=13)
    assert chunked.shape == audio.shape
    assert np.max(np.abs(chunked - whole)) <= 1e-4 * np.max(np.abs(whole))


def test_upsampled_decoder_frames_follow_their_latent_frame():
    """Fine frame u of latent frame t sits at t * U + u: a latent impulse changes only nearby
    fine frames (within the receptive field), never frames far away."""
    config = tiny_frame_config()
    config.frame.decoder_upsample, config.frame.upsample_blocks = 2, 1
    torch.manual_seed(0)
    decoder = Codec(config).eval().decoder
    latent = torch.randn(1, 32, 40)
    bumped = latent.clone()
    bumped[0, :, 30] += 5.0
    changed = (decoder.features(bumped) - decoder.features(latent)).abs().amax(dim=1)[0] > 1e-6
    reach = (config.frame.decoder_blocks + 1) * 3  # latent-rate stack, kernel 7 and the embed
    first, last = torch.nonzero(changed)[[0, -1], 0].tolist()
    assert first >= 2 * (30 - reach) - 4 and last <= 2 * (30 + reach) + 5
    assert changed[60] and changed[61]


def test_shipped_yaml_configs_load():
    from importlib.resources import files  # noqa: F401  (configs live in the repo, not the package)
    from pathlib import Path

    from unisono.codec_train import TrainCodecConfig

    root = Path(__file__).resolve().parents[2] / "configs" / "codec"
    tiny = load_config(TrainCodecConfig, root / "tiny.yaml")
    wave = load_config(TrainCodecConfig, root / "waveform.yaml")
    assert tiny.model == codec_preset("tiny")
    assert wave.model == codec_preset("waveform")
    with pytest.raises(UnisonoError, match="unknown config key"):
        load_config(TrainCodecConfig, root / "tiny.yaml", ["model.frame.widht=3"])


def test_cumulative_phase_decoding_chunked_equals_whole():
    """Integrated phase spans chunks: chunked decoding must integrate over the whole clip."""
    config = tiny_frame_config()
    config.frame.phase = "cumulative"
    torch.manual_seed(0)
    codec = Codec(config).eval()
    audio = np.random.default_rng(1).standard_normal(16000 * 2).astype(np.float32) * 0.1
    latent = codec.encode_audio(audio, config.sample_rate)
    whole = codec.decode_latent(latent, chunk_frames=10_000)
    chunked = codec.decode_latent(latent, chunk_frames=7)
    assert whole.shape == (latent.shape[1] * config.hop,)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)


def test_cumulative_phase_of_a_centred_partial_advances_by_the_bin_advance():
    """Zero deviation gives each bin exactly its centre frequency's advance per hop."""
    config = tiny_frame_config()
    config.frame.phase = "cumulative"
    decoder = Codec(config).decoder
    bins, frames = decoder.bins, 5
    log_magnitude = torch.zeros(1, bins, frames)
    spec = decoder.spectrum_from_params(log_magnitude, torch.ones(1, bins, frames), torch.zeros(1, bins, frames))
    k = 3
    step = torch.angle(spec[0, k, 1:] * spec[0, k, :-1].conj())
    expected = math.remainder(2 * math.pi * k * config.hop / config.frame.n_fft, 2 * math.pi)
    assert torch.allclose(step, torch.full_like(step, expected), atol=1e-5)


def test_latent_cache_fingerprint_follows_the_encoder_not_the_decoder():
    """Cached latents stay valid for a new decoder on the same encoder, never for a new encoder."""
    from unisono.train.latents import codec_fingerprint

    torch.manual_seed(0)
    codec = Codec(tiny_frame_config())
    finer = tiny_frame_config()
    finer.frame.decoder_upsample, finer.frame.decoder_blocks = 2, 3
    other_decoder = Codec(finer)
    other_decoder.encoder.load_state_dict(codec.encoder.state_dict())
    assert codec_fingerprint(other_decoder) == codec_fingerprint(codec)
    with torch.no_grad():
        other_decoder.encoder.stack.head.bias.add_(1e-3)
    assert codec_fingerprint(other_decoder) != codec_fingerprint(codec)
    rescaled = Codec(tiny_frame_config())
    rescaled.load_state_dict(codec.state_dict())
    rescaled.config.latent_scale = 2.0
    assert codec_fingerprint(rescaled) != codec_fingerprint(codec)

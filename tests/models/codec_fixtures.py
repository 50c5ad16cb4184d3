"""Tiny codec configs shared by the codec tests (imported by conftest and test modules)."""

from unisono.models.codec import codec_preset


def tiny_frame_config():
    config = codec_preset("tiny")
    config.frame.width = 32
    config.frame.encoder_blocks = 2
    config.frame.decoder_blocks = 2
    return config


def tiny_waveform_config():
    config = codec_preset("waveform")
    config.latent_channels = 8
    config.waveform.channels = 2
    config.waveform.channel_mults = (1, 2, 2, 2, 2)
    config.waveform.dilations = (1, 3)
    return config

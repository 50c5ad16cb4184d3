"""Fixtures: tiny random codecs of both architectures."""

import pytest
import torch
from codec_fixtures import tiny_frame_config, tiny_waveform_config

from unisono.models.codec import Codec


@pytest.fixture
def frame_codec() -> Codec:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Codec(tiny_frame_config()).eval()


@pytest.fixture
def waveform_codec() -> Codec:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Codec(tiny_waveform_config()).eval()

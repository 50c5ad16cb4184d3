"""Audio I/O, validation, levels, mixing, spectral features and effects."""

from unisono.audio.dsp import (
    DEFAULT_PEAK,
    fade,
    gain_for_snr,
    limit_peak,
    log_mel,
    loudness_lufs,
    mel_filterbank,
    mix_at_snr,
    normalize_rms,
    place,
    rms,
    rms_db,
    stft_power,
)
from unisono.audio.effects import lowpass, pitch_shift, reverberate, synthetic_rir, time_stretch
from unisono.audio.io import load_audio, resample, save_audio, to_mono, validate_audio

__all__ = [
    "DEFAULT_PEAK", "fade", "gain_for_snr", "limit_peak", "load_audio", "log_mel", "loudness_lufs",
    "lowpass", "mel_filterbank", "mix_at_snr", "normalize_rms", "pitch_shift", "place", "resample",
    "reverberate", "rms", "rms_db", "save_audio", "stft_power", "synthetic_rir", "time_stretch",
    "to_mono", "validate_audio",
]

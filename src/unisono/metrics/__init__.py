"""Audio quality metrics as pure functions (the evaluation layer wraps them as objects)."""

from unisono.metrics.audio import (
    METRICS,
    SI_SDR_CAP_DB,
    log_mel_l1,
    log_spectral_distance,
    si_sdr,
)

__all__ = ["METRICS", "SI_SDR_CAP_DB", "log_mel_l1", "log_spectral_distance", "si_sdr"]

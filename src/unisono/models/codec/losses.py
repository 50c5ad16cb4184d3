"""Codec reconstruction losses: multi-resolution STFT, log-mel L1, phase-aware terms and the KL.

Shapes: B batch, S samples, F bins, T frames. Magnitude-only terms cannot fix the phase (SI-SDR
stays near 0 dB whatever the training time), so a complex-STFT term on power-law compressed spectra
(|X|^0.3 e^{j angle X}) and a waveform L1 give the phase a gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from unisono.audio import mel_filterbank


@dataclass
class CodecLossConfig:
    """Weights and resolutions of the codec losses.

    Attributes:
        stft_resolutions: (n_fft, hop) pairs of the multi-resolution STFT loss (and complex loss).
        multi_resolution_stft: weight of spectral convergence + log-magnitude L1, summed over
            resolutions and divided by their count.
        mel: weight of log10 mel L1 (80 HTK bands, n_fft 1024, hop 256: the metric's definition).
        complex_stft: weight of the L1 between compressed complex spectra (phase-aware).
        waveform: weight of the waveform L1 (phase-aware).
        kl: weight of the KL divergence of the bottleneck.
        compression: power applied to magnitudes in the complex loss.
        adversarial: weight of the generator's hinge loss (0 disables the discriminator).
        feature_matching: weight of discriminator feature matching.
        phase: weight of the magnitude-weighted phase losses (`phase_losses`).
        phase_resolution: (n_fft, hop) of the STFT the phase losses compare.
        phase_terms: which of "ip" (instantaneous phase), "gd" (group delay) and "if"
            (instantaneous frequency) the phase weight applies to.
    """

    stft_resolutions: list[tuple[int, int]] = field(
        default_factory=lambda: [(512, 128), (1024, 256), (2048, 512)]
    )
    multi_resolution_stft: float = 1.0
    mel: float = 1.0
    complex_stft: float = 1.0
    waveform: float = 1.0
    kl: float = 1e-4
    compression: float = 0.3
    adversarial: float = 0.0
    feature_matching: float = 0.0
    phase: float = 0.0
    phase_resolution: tuple[int, int] = (1280, 320)
    phase_terms: tuple[str, ...] = ("ip", "gd", "if")


def _stft(audio: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, dtype=audio.dtype, device=audio.device)
    return torch.stft(audio, n_fft, hop, window=window, center=True, return_complex=True)


def _phasor(spec: torch.Tensor) -> torch.Tensor:
    """Unit phasor e^{j angle X} as (..., 2) real, safe at X = 0."""
    real = torch.view_as_real(spec)
    return real * torch.rsqrt(real.square().sum(-1, keepdim=True) + 1e-12)


def _rotate_conj(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a * conj(b) for (..., 2) real phasors: the phasor of the phase difference."""
    return torch.stack([a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1],
                        a[..., 1] * b[..., 0] - a[..., 0] * b[..., 1]], dim=-1)


def phase_losses(estimate: torch.Tensor, target: torch.Tensor, *, n_fft: int, hop: int) -> dict[str, torch.Tensor]:
    """Instantaneous phase, group delay and instantaneous frequency errors (APNet's three terms).

    Phases are compared as unit phasors, |e^{j a} - e^{j b}| = 2 |sin((a - b) / 2)|, which is
    anti-wrapping (no 2 pi jumps) and smooth. Group delay is the phase difference between adjacent
    bins, instantaneous frequency between adjacent frames. Each term is weighted by the target's
    square-root magnitude (normalised to mean 1), since the phase of near-silent bins is noise.
    (B, S) estimate and target -> {"ip", "gd", "if"} scalars.
    """
    est, tgt = _stft(estimate, n_fft, hop), _stft(target, n_fft, hop)
    weight = tgt.abs().sqrt().detach()
    weight = weight / weight.mean(dim=(-2, -1), keepdim=True).clamp_min(1e-8)
    u_est, u_tgt = _phasor(est), _phasor(tgt)

    def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a - b).square().sum(-1).add(1e-12).sqrt()

    ip = (distance(u_est, u_tgt) * weight).mean()
    gd_est = _rotate_conj(u_est[..., 1:, :, :], u_est[..., :-1, :, :])
    gd_tgt = _rotate_conj(u_tgt[..., 1:, :, :], u_tgt[..., :-1, :, :])
    gd = (distance(gd_est, gd_tgt) * torch.minimum(weight[..., 1:, :], weight[..., :-1, :])).mean()
    if_est = _rotate_conj(u_est[..., 1:, :], u_est[..., :-1, :])
    if_tgt = _rotate_conj(u_tgt[..., 1:, :], u_tgt[..., :-1, :])
    inst = (distance(if_est, if_tgt) * torch.minimum(weight[..., 1:], weight[..., :-1])).mean()
    return {"ip": ip, "gd": gd, "if": inst}


class CodecReconstructionLoss(nn.Module):
    """All reconstruction terms; returns the weighted total and each term for logging."""

    def __init__(self, config: CodecLossConfig, *, sample_rate: int):
        super().__init__()
        self.config = config
        self.register_buffer("mel_basis", mel_filterbank(sample_rate, 1024, 80), persistent=False)

    def forward(
        self, estimate: torch.Tensor, target: torch.Tensor, kl: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(B, S) estimate and target, scalar KL -> (total, {term: value})."""
        cfg = self.config
        zero = estimate.new_zeros(())
        convergence, log_magnitude, complex_l1 = zero, zero, zero
        for n_fft, hop in cfg.stft_resolutions:
            est_spec, tgt_spec = _stft(estimate, n_fft, hop), _stft(target, n_fft, hop)
            est_mag = est_spec.abs().clamp_min(1e-7)
            tgt_mag = tgt_spec.abs().clamp_min(1e-7)
            convergence = (
                convergence
                + (
                    torch.linalg.vector_norm(tgt_mag - est_mag, dim=(-2, -1))
                    / torch.linalg.vector_norm(tgt_mag, dim=(-2, -1)).clamp_min(1e-5)
                ).mean()
            )
            log_magnitude = log_magnitude + (tgt_mag.log() - est_mag.log()).abs().mean()
            est_c = est_spec * est_mag.pow(cfg.compression - 1.0)
            tgt_c = tgt_spec * tgt_mag.pow(cfg.compression - 1.0)
            complex_l1 = complex_l1 + torch.view_as_real(est_c - tgt_c).abs().mean()
        count = max(len(cfg.stft_resolutions), 1)
        est_mel = torch.log10(
            torch.matmul(self.mel_basis, _stft(estimate, 1024, 256).abs().square()).clamp_min(1e-5)
        )
        tgt_mel = torch.log10(
            torch.matmul(self.mel_basis, _stft(target, 1024, 256).abs().square()).clamp_min(1e-5)
        )
        terms = {
            "mrstft": (convergence + log_magnitude) / count,
            "mel": (est_mel - tgt_mel).abs().mean(),
            "complex": complex_l1 / count,
            "waveform": F.l1_loss(estimate, target),
            "kl": kl,
        }
        if cfg.phase > 0:
            n_fft, hop = cfg.phase_resolution
            phase = phase_losses(estimate, target, n_fft=n_fft, hop=hop)
            terms.update({f"phase_{k}": v for k, v in phase.items()})
            terms["phase"] = sum(phase[name] for name in cfg.phase_terms)
        total = (
            cfg.multi_resolution_stft * terms["mrstft"]
            + cfg.mel * terms["mel"]
            + cfg.complex_stft * terms["complex"]
            + cfg.waveform * terms["waveform"]
            + cfg.kl * terms["kl"]
            + (cfg.phase * terms["phase"] if cfg.phase > 0 else 0.0)
        )
        return total, terms


def discriminator_hinge_loss(
    real_logits: list[torch.Tensor], fake_logits: list[torch.Tensor]
) -> torch.Tensor:
    """Hinge loss of the discriminator: mean relu(1 - D(real)) + relu(1 + D(fake)), summed."""
    return sum(
        (
            F.relu(1 - r).mean() + F.relu(1 + f).mean()
            for r, f in zip(real_logits, fake_logits, strict=True)
        ),
        torch.zeros(()),
    )


def generator_hinge_loss(fake_logits: list[torch.Tensor]) -> torch.Tensor:
    """Generator side of the hinge loss: mean relu(1 - D(fake)), summed over discriminators."""
    return sum((F.relu(1 - f).mean() for f in fake_logits), torch.zeros(()))


def feature_matching_loss(
    real_features: list[list[torch.Tensor]], fake_features: list[list[torch.Tensor]]
) -> torch.Tensor:
    """L1 between discriminator features of real and fake audio, relative to the real scale."""
    total, count = torch.zeros(()), 0
    for real_layers, fake_layers in zip(real_features, fake_features, strict=True):
        for real, fake in zip(real_layers, fake_layers, strict=True):
            total = total + (
                real.detach() - fake
            ).abs().mean() / real.detach().abs().mean().clamp_min(1e-5)
            count += 1
    return total / max(count, 1)

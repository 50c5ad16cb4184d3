"""The probability path of rectified flow matching, its training target and the masked loss.

Conventions (UNISON 3.5, DESIGN section 2): flow time t runs over [0, 1] with t = 0 the data and
t = 1 the noise; the path is z_t = (1 - t) z + t * noise and its velocity is noise - z. Training
draws t from a logit-normal distribution, so the middle of the path, where the velocity is hardest
to predict, is visited most.

Shapes: B batch, C latent channels, T latent frames. Latents are (B, C, T), flow times (B,),
loss masks (B, T).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from unisono.errors import UnisonoError


def _broadcast_time(flow_time: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
    """Reshape flow times (B,) so they multiply a latent (B, ...) sample by sample."""
    if flow_time.ndim != 1 or flow_time.shape[0] != latent.shape[0]:
        raise UnisonoError(
            f"Flow time has shape {tuple(flow_time.shape)} but the latent batch is "
            f"{latent.shape[0]}; pass one time per example, shape (B,)."
        )
    return flow_time.reshape(-1, *([1] * (latent.ndim - 1))).to(latent.dtype)


def interpolate(data: torch.Tensor, noise: torch.Tensor, flow_time: torch.Tensor) -> torch.Tensor:
    """Point on the straight path from data (t = 0) to noise (t = 1).

    Args:
        data: Clean latents z, shape (B, C, T).
        noise: Gaussian noise of the same shape.
        flow_time: Times t in [0, 1], shape (B,).

    Returns:
        z_t = (1 - t) z + t * noise, shape (B, C, T).
    """
    if data.shape != noise.shape:
        raise UnisonoError(
            f"Data {tuple(data.shape)} and noise {tuple(noise.shape)} differ in shape; "
            "draw the noise with the latent's shape."
        )
    time = _broadcast_time(flow_time, data)
    return (1.0 - time) * data + time * noise


def source_prior(source: torch.Tensor, noise: torch.Tensor, scale: float) -> torch.Tensor:
    """The t = 1 end of a transformation task's path when it starts from its source.

    Enhancement, super-resolution and edits map a recording to a nearby one. Starting their path
    from the source latent plus a little noise, source + scale * noise, instead of from pure
    noise (a bridge prior, as in the flow and Schroedinger-bridge speech enhancers), means a
    velocity of zero already returns the input, and the network only has to learn the change.
    The path, the target velocity (end - z) and the solvers stay as they are.

    Args:
        source: Source latents aligned frame for frame with the target, shape (B, C, T).
        noise: Standard Gaussian noise of the same shape.
        scale: The noise's standard deviation around the source, >= 0.

    Returns:
        source + scale * noise, shape (B, C, T).
    """
    if source.shape != noise.shape:
        raise UnisonoError(
            f"Source {tuple(source.shape)} and noise {tuple(noise.shape)} differ in shape; a "
            "source prior needs a source aligned frame for frame with the target."
        )
    if scale < 0:
        raise UnisonoError(f"The source prior's noise scale must be >= 0, got {scale}.")
    return source + scale * noise


SOURCE_OUTPUTS = ("velocity", "change")
CHANGE_MIN_TIME = 1e-3


def check_source_output(output: str, where: str) -> str:
    """`output` when it is a known source-prior output ("velocity" / "change"), else UnisonoError."""
    if output not in SOURCE_OUTPUTS:
        raise UnisonoError(f"{where}: source output {output!r} is not one of "
                           f"{', '.join(SOURCE_OUTPUTS)}.")
    return output


def target_change(data: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """What a network predicting the change learns: source - z, shape (B, C, T).

    A transformation keeps most of its source, so the change is zero wherever nothing is to
    change, and the network can learn "leave it" exactly. Source minus target rather than
    target minus source: with a source prior the path's velocity is source + noise - z, so a
    velocity network already predicts the change plus the prior's noise and can be fine-tuned
    into a change network.
    """
    if data.shape != source.shape:
        raise UnisonoError(f"Data {tuple(data.shape)} and source {tuple(source.shape)} differ in "
                           "shape; the change needs a source aligned frame for frame.")
    return source - data


class ChangeVelocity:
    """A network predicting the change (`target_change`) as a velocity model for the solvers.

    The change c gives the target estimate z = source - c, and the straight path through z_t
    has velocity (z_t - z) / t = (z_t - source + c) / t. One Euler step from t to t' then moves
    z_t toward the estimate by the fraction (t - t') / t, so the last step lands on it exactly.
    At t = 0 (Heun's last corrector) the quotient is 0 / 0; on a straight path the velocity is
    constant, so the last velocity computed with the same conditions stands in (guidance in two
    passes asks with and without the instruction: each gets its own). Guidance mixes velocities,
    which are affine in the change, so it mixes the changes. One instance serves one sampling run.

    Args:
        model: the network, `model(z_t, t, *, source_latent, **conditions) -> change`.
    """

    def __init__(self, model: Callable[..., torch.Tensor]) -> None:
        self.model = model
        # (batch shape, the conditions' objects) -> the last velocity computed with them
        self.last: dict[tuple[object, ...], torch.Tensor] = {}

    def __call__(self, latent: torch.Tensor, flow_time: torch.Tensor, *,
                 source_latent: torch.Tensor, **conditions: object) -> torch.Tensor:
        # A sampler passes the same condition objects at every step of a run.
        key = (tuple(latent.shape), id(source_latent),
               *((name, id(value)) for name, value in sorted(conditions.items())))
        at_data = flow_time < CHANGE_MIN_TIME
        if bool(at_data.all()) and key in self.last:
            return self.last[key]
        change = self.model(latent, flow_time, source_latent=source_latent, **conditions)
        time = _broadcast_time(flow_time.clamp(min=CHANGE_MIN_TIME), latent)
        self.last[key] = (latent - source_latent + change) / time
        return self.last[key]


def target_velocity(data: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Velocity d z_t / d t of the straight path: noise - z, shape (B, C, T)."""
    return noise - data


def sample_logit_normal(
    batch_size: int,
    *,
    generator: torch.Generator,
    mean: float = 0.0,
    std: float = 1.0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Draw flow times t = sigmoid(mean + std * n) with n standard normal.

    The median of t is sigmoid(mean); std widens the spread toward 0 and 1. Values lie strictly
    inside (0, 1) up to floating point.

    Args:
        batch_size: Number of times B.
        generator: The only source of randomness.
        mean: Mean of the underlying normal (0 centres the mass at t = 0.5).
        std: Standard deviation of the underlying normal, > 0.
        device: Device of the result (defaults to the generator's device).
        dtype: Floating dtype of the result.

    Returns:
        Flow times, shape (B,).
    """
    if std <= 0:
        raise UnisonoError(f"Logit-normal std must be positive, got {std}; use e.g. 1.0.")
    device = generator.device if device is None else device
    normal = torch.randn(batch_size, generator=generator, device=device, dtype=torch.float64)
    return torch.sigmoid(mean + std * normal).to(dtype)


def masked_mse(
    prediction: torch.Tensor, target: torch.Tensor, loss_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean squared error over the frames that must be generated (UNISON eq. 3).

    The mean runs over unmasked elements only: every kept frame contributes its C channels,
    padding and reference-prefix frames contribute nothing. A row with no kept frame therefore
    adds nothing, and a batch with none at all gives a loss of exactly 0 (still attached to the
    graph) rather than NaN.

    Args:
        prediction: Predicted velocity, shape (B, C, T).
        target: Target velocity, shape (B, C, T).
        loss_mask: True (or 1) on frames that count, shape (B, T); None keeps every frame.

    Returns:
        Scalar loss.
    """
    if prediction.shape != target.shape:
        raise UnisonoError(
            f"Prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in "
            "shape; the velocity head must output the latent's (B, C, T)."
        )
    squared_error = (prediction - target).square()
    if loss_mask is None:
        return squared_error.mean()
    batch, _, frames = prediction.shape
    if loss_mask.shape != (batch, frames):
        raise UnisonoError(
            f"Loss mask has shape {tuple(loss_mask.shape)} but the latent is "
            f"{tuple(prediction.shape)}; pass one flag per frame, shape (B, T)."
        )
    weight = loss_mask.to(squared_error.dtype).unsqueeze(1)
    # where() rather than a product, so NaN/inf in masked frames cannot leak into the loss.
    kept = torch.where(weight > 0, squared_error * weight, torch.zeros_like(squared_error))
    count = weight.sum() * prediction.shape[1]
    return kept.sum() / count.clamp(min=1.0)


def change_weights(
    data: torch.Tensor, source: torch.Tensor, loss_mask: torch.Tensor, strength: float
) -> torch.Tensor:
    """Per-frame flow-loss weights that favour the frames a transformation changes.

    w_t = m_t (1 + strength d_t / mean_m(d)), with d_t = mean over channels of (z - z_s)^2 at frame
    t and the mean over the row's loss-mask frames m. On an edit most frames of the target copy
    the source, so an unweighted loss is mostly about copying; with these weights the changed
    frames count 1 + strength times their share of the change. A row whose change is spread
    evenly (noise removed everywhere) gets 1 + strength on every frame, which a weighted mean
    (`masked_mse`) turns back into the plain loss; a row with no change keeps its mask.

    Args:
        data: target latents z (B, C, T).
        source: aligned source latents z_s (B, C, T).
        loss_mask: True on frames that count (B, T).
        strength: >= 0; 0 returns the mask as weights.

    Returns:
        float weights (B, T), zero where the mask is False.
    """
    if strength < 0:
        raise UnisonoError(f"flow.change_weight must be >= 0, got {strength}.")
    mask = loss_mask.to(data.dtype)
    change = (data - source).square().mean(dim=1)
    mean = (change * mask).sum(dim=1, keepdim=True) / mask.sum(dim=1, keepdim=True).clamp(min=1.0)
    relative = torch.where(mean > 0, change / mean.clamp(min=1e-12), torch.zeros_like(change))
    return mask * (1.0 + strength * relative)


@dataclass(frozen=True)
class FlowExample:
    """One training input built from clean latents.

    Attributes:
        noised: z_t, shape (B, C, T).
        flow_time: t, shape (B,).
        target: Velocity to regress, noise - z, shape (B, C, T).
        noise: The noise that was drawn, shape (B, C, T).
    """

    noised: torch.Tensor
    flow_time: torch.Tensor
    target: torch.Tensor
    noise: torch.Tensor


@dataclass(frozen=True)
class FlowMatching:
    """The training objective of rectified flow matching. It holds no parameters.

    Attributes:
        time_mean: Mean of the logit-normal flow-time distribution.
        time_std: Standard deviation of the logit-normal flow-time distribution.
    """

    time_mean: float = 0.0
    time_std: float = 1.0

    def __post_init__(self) -> None:
        if self.time_std <= 0:
            raise UnisonoError(
                f"FlowMatching time_std must be positive, got {self.time_std}; use e.g. 1.0."
            )

    def training_example(self, data: torch.Tensor, *, generator: torch.Generator) -> FlowExample:
        """Draw noise and flow times for clean latents and build the network input and target.

        Args:
            data: Clean latents z, shape (B, C, T).
            generator: The only source of randomness (on the latent's device).

        Returns:
            The noised latent, its flow time, the target velocity and the noise.
        """
        noise = torch.randn(data.shape, generator=generator, device=data.device, dtype=data.dtype)
        flow_time = sample_logit_normal(
            data.shape[0],
            generator=generator,
            mean=self.time_mean,
            std=self.time_std,
            device=data.device,
            dtype=data.dtype,
        )
        return FlowExample(
            noised=interpolate(data, noise, flow_time),
            flow_time=flow_time,
            target=target_velocity(data, noise),
            noise=noise,
        )

    def loss(
        self,
        velocity: torch.Tensor,
        example: FlowExample,
        loss_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Masked mean squared error between a predicted velocity (B, C, T) and the target."""
        return masked_mse(velocity, example.target, loss_mask)

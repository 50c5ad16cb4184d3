"""Flow matching: the probability path, the training loss and the samplers. No parameters here.

The network only maps (z_t, t, conditions) -> velocity; this package owns everything around it.
Time runs from t = 0 (data) to t = 1 (noise); sampling integrates from 1 down to 0.
"""

from unisono.flow.guidance import ClassifierFreeGuidance, stack_conditions
from unisono.flow.path import (
    FlowExample,
    FlowMatching,
    interpolate,
    masked_mse,
    sample_logit_normal,
    target_velocity,
)
from unisono.flow.sdedit import sdedit
from unisono.flow.solvers import (
    DEFAULT_SWAY,
    SOLVERS,
    Solver,
    draw_noise,
    get_solver,
    integrate,
    sample,
    time_grid,
)

__all__ = [
    "DEFAULT_SWAY",
    "SOLVERS",
    "ClassifierFreeGuidance",
    "FlowExample",
    "FlowMatching",
    "Solver",
    "draw_noise",
    "get_solver",
    "integrate",
    "interpolate",
    "masked_mse",
    "sample",
    "sample_logit_normal",
    "sdedit",
    "stack_conditions",
    "target_velocity",
    "time_grid",
]

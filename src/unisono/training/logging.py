"""Training logs: a CSV file (one row per logged step) and TensorBoard when it is installed.

On resume, rows logged after the checkpoint's step are dropped so the CSV matches the run that
continues (a killed run may have logged steps that the resumed one repeats).
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path


class MetricLogger:
    """Append scalar metrics per step to `metrics.csv` (+ TensorBoard events)."""

    def __init__(self, run_dir: str | Path, *, tensorboard: bool = True, resume_step: int = 0):
        self.path = Path(run_dir) / "metrics.csv"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fields: list[str] | None = None
        if self.path.exists():
            self._truncate(resume_step)
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                warnings.warn(
                    "tensorboard is not installed: logging to metrics.csv only "
                    "(pip install tensorboard to get event files).",
                    stacklevel=2,
                )
            else:
                self.writer = SummaryWriter(str(self.path.parent / "tensorboard"))

    def _truncate(self, resume_step: int) -> None:
        with open(self.path, newline="") as handle:
            rows = list(csv.DictReader(handle))
            fields = list(rows[0].keys()) if rows else None
        kept = [row for row in rows if int(row["step"]) <= resume_step]
        if fields is None:
            self.path.unlink()
            return
        self.fields = fields
        with open(self.path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(kept)

    def log(self, step: int, values: dict[str, float]) -> None:
        """Write one row; the first row fixes the columns (later unknown keys are ignored)."""
        row = {"step": step, **{k: float(v) for k, v in values.items()}}
        new_file = self.fields is None
        if self.fields is None:
            self.fields = list(row)
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fields, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(key, float(value), step)

    def close(self) -> None:
        """Flush TensorBoard."""
        if self.writer is not None:
            self.writer.close()

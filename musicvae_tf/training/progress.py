"""The rich progress bar of a training run: step, loss, KL bits, latent use and steps per second.

In a terminal the bar shows the latest values; otherwise (a batch job logging to a file) each
training summary is printed as one plain line instead.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


class TrainingProgress:
    """A progress bar from ``start`` to ``total`` steps; ``update`` shows the latest scalars.

    ``enabled=False`` (or a non-terminal stderr) shows nothing, so logs of batch jobs stay clean.
    """

    def __init__(self, start: int, total: int, *, enabled: bool = True, description: str = "train"):
        console = Console(stderr=True)
        self.enabled = enabled and console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("step {task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("KL {task.fields[kl_bits]} bits"),
            TextColumn("AU {task.fields[active]}"),
            TextColumn("gap {task.fields[gap]}"),
            TextColumn("{task.fields[rate]} steps/s"),
            TimeRemainingColumn(),
            console=console,
            disable=not self.enabled,
        )
        self._task = self._progress.add_task(description, total=total, completed=start,
                                             loss="-", kl_bits="-", rate="-", active="-",
                                             gap="-")

    def update(self, step: int, scalars: dict[str, float], steps_per_sec: float) -> None:
        """Move the bar to ``step`` and show the given scalars."""
        kl = scalars.get("kl_bits")
        self._progress.update(
            self._task, completed=step, loss=f"{scalars.get('loss', float('nan')):.3f}",
            kl_bits="-" if kl is None else f"{kl:.1f}", rate=f"{steps_per_sec:.2f}")

    def summary(self, step: int, metrics: dict) -> None:
        """Show a training summary: active units and z-shuffle gap on the bar, or one line."""
        active, gap = metrics.get("active_units"), metrics.get("z_shuffle_gap")
        if self.enabled:
            if active is not None:
                self._progress.update(self._task, active=str(active), gap=f"{100 * gap:.1f}")
            return
        parts = [f"step {step}"]
        for key in ("loss", "reconstruction", "kl_bits", "accuracy", "code_perplexity", "code_usage",
                    "steps_per_sec"):
            if isinstance(metrics.get(key), (int, float)):
                parts.append(f"{key} {metrics[key]:.4g}")
        if active is not None:
            parts.append(f"active_units {active} z_shuffle_gap {100 * gap:.1f} points")
        print("  ".join(parts), file=sys.stderr, flush=True)

    def print(self, message: str) -> None:
        """A message above the bar (or on stderr when the bar is off)."""
        if self.enabled:
            self._progress.console.print(message)
        else:
            print(message, file=sys.stderr, flush=True)

    def __enter__(self) -> "TrainingProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

"""The rich progress bar of a training run: step, loss, KL bits and steps per second."""

from __future__ import annotations

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
            TextColumn("{task.fields[rate]} steps/s"),
            TimeRemainingColumn(),
            console=console,
            disable=not self.enabled,
        )
        self._task = self._progress.add_task(description, total=total, completed=start,
                                             loss="-", kl_bits="-", rate="-")

    def update(self, step: int, scalars: dict[str, float], steps_per_sec: float) -> None:
        """Move the bar to ``step`` and show the given scalars."""
        kl = scalars.get("kl_bits")
        self._progress.update(
            self._task, completed=step, loss=f"{scalars.get('loss', float('nan')):.3f}",
            kl_bits="-" if kl is None else f"{kl:.1f}", rate=f"{steps_per_sec:.2f}")

    def __enter__(self) -> "TrainingProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

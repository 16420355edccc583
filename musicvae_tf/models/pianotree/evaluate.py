"""Reconstruction F1 of polyphonic models (PianoTree and the piano-roll baseline) on a split.

Every window of the split is encoded to its posterior mean and reconstructed twice: teacher
forced (argmax predictions given the true history, ``model.teacher_forced_tokens``) and fully
sampled (greedy decoding from the mean). Precision, recall and F1 are micro-averaged over all
windows, for onsets (pitch + onset step) and for notes (pitch + onset + duration). Durations are
compared cut at the window's end, since a piano roll cannot show a note past it.
"""

from __future__ import annotations

import numpy as np

from data_pipelines.encodings.pianotree import tree_notes
from data_pipelines.errors import MusicVAEError

LEVELS = ("onset", "note")
MODES = ("teacher_forced", "sampled_greedy")


def window_notes(tree, num_steps: int) -> tuple[set, set]:
    """Onsets ``{(step, pitch)}`` and notes ``{(step, pitch, clipped end)}`` of a tree."""
    notes = [(start, pitch, min(end, num_steps)) for pitch, start, end in tree_notes(tree)]
    return {(start, pitch) for start, pitch, _ in notes}, set(notes)


class F1Counts:
    """True-positive, predicted and reference counts of one level, summed over windows."""

    def __init__(self):
        self.hits = self.predicted = self.reference = 0

    def add(self, predicted: set, reference: set) -> None:
        """Count one window."""
        self.hits += len(predicted & reference)
        self.predicted += len(predicted)
        self.reference += len(reference)

    def scores(self) -> dict:
        """``precision``, ``recall`` and ``f1`` (0 where undefined)."""
        precision = self.hits / self.predicted if self.predicted else 0.0
        recall = self.hits / self.reference if self.reference else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}


def evaluate_f1(model, config, data_dir, split: str, batch_size: int = 256) -> dict:
    """``{mode: {level: {precision, recall, f1}}}`` plus ``num_windows`` and ``num_notes``."""
    from data_pipelines.reader import make_dataset

    steps = config.data.num_steps
    counts = {(mode, level): F1Counts() for mode in MODES for level in LEVELS}
    windows = 0
    for inputs, tokens in make_dataset(str(data_dir), split, config.data, batch_size,
                                       training=False):
        mu, _ = model.encode(inputs)
        predictions = {"teacher_forced": np.asarray(model.teacher_forced_tokens(inputs, tokens)),
                       "sampled_greedy": np.asarray(model.sample_tokens(mu, 0.0))}
        for index, reference in enumerate(np.asarray(tokens)):
            truth = window_notes(reference, steps)
            for mode, trees in predictions.items():
                for level, predicted, wanted in zip(LEVELS, window_notes(trees[index], steps),
                                                    truth):
                    counts[mode, level].add(predicted, wanted)
            windows += 1
    if not windows:
        raise MusicVAEError(f"{data_dir} has no {split} windows to evaluate")
    result = {mode: {level: counts[mode, level].scores() for level in LEVELS} for mode in MODES}
    return {"num_windows": windows, "num_notes": counts[MODES[0], "note"].reference, **result}


def print_table(result: dict) -> None:
    """The F1 numbers as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['config']} on {result['split']} ({result['num_windows']} "
                        f"windows, {result['num_notes']} notes)")
    for column in ("reconstruction", "level", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column in ("reconstruction", "level")
                         else "right")
    for mode in MODES:
        for level in LEVELS:
            scores = result[mode][level]
            table.add_row(mode.replace("_", " "), level, f"{scores['precision']:.3f}",
                          f"{scores['recall']:.3f}", f"{scores['f1']:.3f}")
    Console().print(table)

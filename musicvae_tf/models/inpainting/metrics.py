"""Token metrics over inpainted bars only (no padding, no context bars counted).

- ``nll``: mean token cross-entropy in nats of the true gap tokens under the method's
  teacher-forced decoder distribution.
- ``accuracy_teacher_forced``: argmax of that distribution equals the target.
- ``accuracy``: the method's generated tokens (greedy decoding, temperature 0) equal the target.
- ``rhythm_accuracy``: generated and target steps fall in the same rhythm class: note-on, hold
  (NO_EVENT, 0) or note-off (NOTE_OFF, 1), over every gap step.
- ``pitch_accuracy``: over steps whose target is a note-on, the generated token is that same
  note-on (the right pitch starting at the right step).
- ``hold_rest_accuracy``: over steps whose target is a hold or a note-off, the generated token is
  that same token (SketchNet's "rhythm accuracy", SPEC_MODELS §B4, pooled over tokens rather than
  averaged per example).
"""

from __future__ import annotations

import numpy as np

from data_pipelines.tokens import FIRST_PITCH_TOKEN, NOTE_OFF, NO_EVENT


def rhythm_classes(tokens: np.ndarray) -> np.ndarray:
    """0 for hold, 1 for note-off, 2 for any note-on (same shape as ``tokens``)."""
    tokens = np.asarray(tokens)
    return np.where(tokens >= FIRST_PITCH_TOKEN, 2, np.where(tokens == NOTE_OFF, 1, NO_EVENT))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class GapMetrics:
    """Accumulates sums over batches of gap bars and reports the metrics above."""

    def __init__(self):
        self.sums = {"nll": 0.0, "correct_tf": 0, "correct": 0, "rhythm": 0, "pitch": 0,
                     "hold_rest": 0}
        self.tokens = 0
        self.onsets = 0
        self.nll_tokens = 0

    def add(self, targets, generated, logits=None) -> None:
        """Add gap bars: ``targets`` and ``generated`` int [N, S]; ``logits`` [N, S, C] or None."""
        targets = np.asarray(targets).reshape(-1)
        generated = np.asarray(generated).reshape(-1)
        if targets.shape != generated.shape:
            raise ValueError(f"targets {targets.shape} and generated {generated.shape} differ")
        self.tokens += targets.size
        self.sums["correct"] += int((generated == targets).sum())
        self.sums["rhythm"] += int((rhythm_classes(generated) == rhythm_classes(targets)).sum())
        onset = targets >= FIRST_PITCH_TOKEN
        self.onsets += int(onset.sum())
        self.sums["pitch"] += int((generated[onset] == targets[onset]).sum())
        self.sums["hold_rest"] += int((generated[~onset] == targets[~onset]).sum())
        if logits is not None:
            flat = np.asarray(logits, np.float64).reshape(targets.size, -1)
            log_probs = _log_softmax(flat)
            self.sums["nll"] += float(-log_probs[np.arange(targets.size), targets].sum())
            self.sums["correct_tf"] += int((flat.argmax(-1) == targets).sum())
            self.nll_tokens += targets.size

    def result(self) -> dict:
        """Metric name -> value (None where nothing was counted)."""
        def ratio(num, den):
            return None if den == 0 else float(num) / den

        return {
            "nll": ratio(self.sums["nll"], self.nll_tokens),
            "accuracy_teacher_forced": ratio(self.sums["correct_tf"], self.nll_tokens),
            "accuracy": ratio(self.sums["correct"], self.tokens),
            "pitch_accuracy": ratio(self.sums["pitch"], self.onsets),
            "rhythm_accuracy": ratio(self.sums["rhythm"], self.tokens),
            "hold_rest_accuracy": ratio(self.sums["hold_rest"], self.tokens - self.onsets),
            "gap_tokens": self.tokens,
        }

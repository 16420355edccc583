"""SketchNet on the 6 / 4 / 6 protocol: with no sketch, with the true rhythm of every missing
bar given, with the true pitches given (each as latents only: the decoder is not held to them),
and the SketchInpainter alone (stage 1, no connector). Metrics: ``inpainting.metrics``; the
§B4 pitch accuracy is ``pitch_accuracy``, its rhythm accuracy ``hold_rest_accuracy``."""

from __future__ import annotations

import numpy as np

from musicvae_tf.models.inpainting.gap import PROTOCOL_A
from musicvae_tf.models.inpainting.metrics import GapMetrics

METHODS = {"sketchnet": {"given": "none"},
           "sketchnet_true_rhythm": {"given": "rhythm"},
           "sketchnet_true_pitches": {"given": "pitches"},
           "sketch_inpainter_only": {"stage1_only": True}}


def score_sketchnet(inpainter, windows: np.ndarray, split, metrics: dict) -> None:
    """Add one batch of token windows ``[B, U * S]`` to ``metrics`` (``{method: GapMetrics}``)."""
    for name, options in METHODS.items():
        inpainter.score(windows, split, metrics[name], **options)


def evaluate_sketchnet(inpainter, windows: np.ndarray, batch_size: int = 64) -> dict:
    """``{method: metrics}`` of SketchNet's rows on token windows ``[N, U * S]`` (protocol A)."""
    metrics = {name: GapMetrics() for name in METHODS}
    for start in range(0, len(windows), batch_size):
        score_sketchnet(inpainter, windows[start:start + batch_size], PROTOCOL_A, metrics)
    return {name: metric.result() for name, metric in metrics.items()}


def print_rows(methods: dict) -> None:
    """One line per method."""
    for name, values in methods.items():
        cells = "  ".join(f"{key} {value:.3f}" for key, value in values.items()
                          if isinstance(value, float))
        print(f"{name}: {cells}")

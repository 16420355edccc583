"""Gradient clipping and the skip rule (SPEC §4), the one the training step applies."""

from __future__ import annotations

import tensorflow as tf


def clip_or_skip(grads, clip_norm=1.0, skip_norm=1e4, loss_scale=None):
    """Clip gradients to a global norm; zero them when the norm is at least ``skip_norm``.

    Returns ``(grads, global_norm, skipped)``: ``global_norm`` is that of the true gradient
    (``grads / loss_scale`` when a mixed_float16 loss scale is given) and ``skipped`` is true when
    it is at least ``skip_norm`` or not finite. Zeroed gradients make Adam's step nearly a no-op
    but still advance its moments; a caller that must skip the update entirely should branch on
    ``skipped``. With a ``loss_scale`` non-finite gradients are passed on as they are, so that the
    LossScaleOptimizer lowers its scale (it skips such updates itself). ``None`` gradients are
    passed through.
    """
    present = [g for g in grads if g is not None]
    scale = 1.0 if loss_scale is None else tf.cast(loss_scale, tf.float32)
    global_norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in present]) / scale
    skipped = tf.logical_not(global_norm < skip_norm)
    factor = tf.minimum(1.0, clip_norm / tf.maximum(global_norm, 1e-12))
    keep = tf.logical_not(skipped)
    if loss_scale is not None:
        finite = tf.math.is_finite(global_norm)
        factor = tf.where(finite, factor, 1.0)
        keep = tf.logical_or(keep, tf.logical_not(finite))
    clipped = iter([tf.where(keep, g * tf.cast(factor, g.dtype), tf.zeros_like(g))
                    for g in present])
    return [None if g is None else next(clipped) for g in grads], global_norm, skipped

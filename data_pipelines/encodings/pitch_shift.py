"""Transposition augmentation for encodings with several pitched 90-class columns (tf ops).

The melody rule (``data_pipelines.reader.transpose_tokens``) applied to several columns at once:
one shift per window, picked by ``fraction`` among the shifts in ``[low, high]`` that keep every
note-on token of every column in the vocabulary (0 when none does).
"""

from __future__ import annotations

import tensorflow as tf

from data_pipelines.tokens import FIRST_PITCH_TOKEN


def window_shift(columns, fraction, low: int, high: int, num_classes: int):
    """The shift ``[batch]`` valid for all ``columns`` (each ``[batch, steps]`` note tokens)."""
    tokens = tf.concat([tf.convert_to_tensor(c) for c in columns], axis=-1)
    is_note = tokens >= FIRST_PITCH_TOKEN
    lowest = tf.reduce_min(tf.where(is_note, tokens, tf.constant(num_classes, tokens.dtype)), -1)
    highest = tf.reduce_max(tf.where(is_note, tokens, tf.zeros_like(tokens)), -1)
    has_notes = tf.reduce_any(is_note, axis=-1)
    valid_low = tf.where(has_notes, tf.maximum(low, FIRST_PITCH_TOKEN - lowest), low)
    valid_high = tf.where(has_notes, tf.minimum(high, num_classes - 1 - highest), high)
    choices = valid_high - valid_low + 1
    picked = valid_low + tf.cast(tf.floor(fraction * tf.cast(choices, fraction.dtype)),
                                 tokens.dtype)
    return tf.where(choices > 0, tf.minimum(picked, valid_high), tf.zeros_like(picked))


def shift_notes(column, shift):
    """A ``[batch, steps]`` column with its note-on tokens moved by ``shift`` ``[batch]``."""
    column = tf.convert_to_tensor(column)
    return tf.where(column >= FIRST_PITCH_TOKEN, column + shift[:, tf.newaxis], column)

"""What the flat and hierarchical MusicVAE decoders share: their sizes (units, z, output splits,
controls) and how teacher-forcing inputs are built from the targets."""

from __future__ import annotations

import keras
import tensorflow as tf


def shift_right(targets_one_hot):
    """Teacher-forcing inputs: the previous target at each step, zeros at step 0."""
    return tf.pad(targets_one_hot[:, :-1], [[0, 0], [1, 0], [0, 0]])


def split_states(flat, sizes):
    """Split a ``[..., sum(sizes)]`` tensor into the list ``[h_0, c_0, h_1, c_1, ...]``."""
    return tf.split(flat, sizes, axis=-1)


def with_controls(inputs, controls):
    """``inputs`` with the per-step ``controls`` concatenated (``inputs`` when there are none)."""
    return inputs if controls is None else tf.concat([inputs, tf.cast(controls, inputs.dtype)], -1)


class Decoder(keras.layers.Layer):
    """Sizes of a MusicVAE decoder: LSTM ``units`` per layer, ``latent_dim``, ``num_classes`` =
    ``sum(output_splits)`` (one softmax per split; one split by default), the width of the
    per-step controls and the LSTM implementation."""

    def __init__(self, units, latent_dim, num_classes, lstm_impl="auto", output_splits=None,
                 control_depth=0, **kwargs):
        super().__init__(**kwargs)
        self.units = [int(u) for u in units]
        self.latent_dim = int(latent_dim)
        self.num_classes = int(num_classes)
        self.lstm_impl = str(lstm_impl)
        self.output_splits = [int(s) for s in (output_splits or [self.num_classes])]
        self.control_depth = int(control_depth)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, latent_dim=self.latent_dim, num_classes=self.num_classes,
                      lstm_impl=self.lstm_impl, output_splits=self.output_splits,
                      control_depth=self.control_depth)
        return config

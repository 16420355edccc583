"""A stacked, optionally bidirectional LSTM layer: the fused CPU kernel or Keras's (cuDNN) LSTM."""

from __future__ import annotations

import keras
import tensorflow as tf

from musicvae_tf.layers.lstm_core import lstm_sequence
from musicvae_tf.layers.lstm_keras import LSTM_IMPLS, keras_lstm, resolve_lstm_impl


def _forget_bias_ones(shape, dtype=None):
    """Zeros except ones on the forget-gate quarter (Keras's ``unit_forget_bias``)."""
    units = shape[0] // 4
    return tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class LSTMStack(keras.layers.Layer):
    """Stacked LSTM; the first layer's input is ``concat(inputs_t, conditioning)`` at every step.

    Each layer (and direction) owns ``kernel [in, 4H]``, ``recurrent_kernel [H, 4H]`` and
    ``bias [4H]`` in ``keras.layers.LSTM``'s layout and gate order (i, f, c, o). The input
    projections of all steps are one matmul per layer; the constant conditioning vector is
    projected once per sequence instead of being concatenated to every step (same result,
    since ``concat(x, c) @ K = x @ K[:dx] + c @ K[dx:]``). The recurrence is
    :func:`musicvae_tf.layers.lstm_core.lstm_sequence`.

    ``impl`` picks how whole sequences run over these same weights: ``fused`` (above), ``keras``
    (:func:`musicvae_tf.layers.lstm_keras.keras_lstm`, cuDNN on a GPU; the conditioning is concatenated
    to every step and a backward direction runs on the reversed sequence) or ``auto`` (keras when
    a GPU is visible, decided when the layer is traced). Step-by-step decoding uses
    :meth:`step_weights` either way.

    Recurrent kernels default to Glorot-uniform like Magenta's TF1 cells (Keras's orthogonal
    default takes seconds per 2048-unit matrix on CPU, which makes full-size models slow to build).
    Bidirectional layers feed ``concat(forward_t, backward_t)`` to the next layer.
    """

    def __init__(self, units, input_dim, conditioning_dim=0, bidirectional=False,
                 kernel_initializer="glorot_uniform", recurrent_initializer="glorot_uniform",
                 impl="auto", **kwargs):
        super().__init__(**kwargs)
        self.units = [int(u) for u in units]
        self.input_dim = int(input_dim)
        self.conditioning_dim = int(conditioning_dim)
        self.bidirectional = bool(bidirectional)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.directions = ("fw", "bw") if self.bidirectional else ("fw",)
        if impl not in LSTM_IMPLS:
            raise ValueError(f"unknown impl {impl!r}; choose one of: {', '.join(LSTM_IMPLS)}")
        self.impl = str(impl)

    def build(self, input_shape=None):
        """Create every weight from the constructor's sizes (the input shape is not needed)."""
        self.cell_weights = []
        in_dim = self.input_dim + self.conditioning_dim
        for index, units in enumerate(self.units):
            layer = []
            for direction in self.directions:
                prefix = f"layer{index}_{direction}_"
                layer.append((
                    self.add_weight(name=prefix + "kernel", shape=(in_dim, 4 * units),
                                    initializer=self.kernel_initializer),
                    self.add_weight(name=prefix + "recurrent_kernel", shape=(units, 4 * units),
                                    initializer=self.recurrent_initializer),
                    self.add_weight(name=prefix + "bias", shape=(4 * units,),
                                    initializer=_forget_bias_ones),
                ))
            self.cell_weights.append(layer)
            in_dim = units * len(self.directions)
        self.built = True

    def state_sizes(self) -> list[int]:
        """Sizes of the flat initial-state list ``[h_0, c_0, h_1, c_1, ...]``."""
        return [u for u in self.units for _ in range(2)]

    def step_weights(self) -> list[tuple[tf.Tensor, tf.Tensor, tf.Tensor]]:
        """``(kernel, recurrent_kernel, bias)`` per layer in the compute dtype (unidirectional)."""
        if self.bidirectional:
            raise ValueError("a bidirectional LSTM cannot be stepped")
        return [tuple(tf.cast(w, self.compute_dtype) for w in layer[0])
                for layer in self.cell_weights]

    def call(self, inputs, conditioning=None, initial_states=None):
        """Run the stack.

        Args:
          inputs: ``[B, T, input_dim]``.
          conditioning: ``[B, conditioning_dim]`` appended to every step of the first layer.
          initial_states: flat list ``[h_0, c_0, h_1, c_1, ...]`` of ``[B, H_l]`` (unidirectional
            only); zeros when omitted.

        Returns:
          ``(outputs [B, T, H_top * directions], final_states)`` where ``final_states`` is the flat
          list ``[h, c]`` per layer and direction (forward first).
        """
        if resolve_lstm_impl(self.impl) == "keras":
            return self._call_keras(inputs, conditioning, initial_states)
        dtype = self.compute_dtype
        x = tf.transpose(tf.cast(inputs, dtype), [1, 0, 2])  # [T, B, D]
        num_steps, batch = tf.shape(x)[0], tf.shape(x)[1]
        num_dirs = len(self.directions)
        final_states = []
        for index, (units, layer) in enumerate(zip(self.units, self.cell_weights)):
            kernel = tf.concat([tf.cast(w[0], dtype) for w in layer], axis=1)
            bias = tf.concat([tf.cast(w[2], dtype) for w in layer], axis=0)
            recurrent = tf.stack([tf.cast(w[1], dtype) for w in layer])
            in_dim = x.shape[-1]
            if index == 0 and self.conditioning_dim:
                per_sequence = tf.matmul(tf.cast(conditioning, dtype), kernel[in_dim:]) + bias
                kernel = kernel[:in_dim]
            else:
                per_sequence = bias
            projected = tf.reshape(tf.matmul(tf.reshape(x, [-1, in_dim]), kernel),
                                   [num_steps, batch, num_dirs, 4 * units])
            projected = projected + tf.reshape(per_sequence, [-1, num_dirs, 4 * units])
            if num_dirs == 1:
                projected = tf.reshape(projected, [num_steps, 1, batch, 4 * units])
            else:
                projected = tf.stack([projected[:, :, 0],
                                      tf.reverse(projected[:, :, 1], axis=[0])], axis=1)
            if initial_states is not None:
                h0 = tf.cast(initial_states[2 * index], dtype)[tf.newaxis]
                c0 = tf.cast(initial_states[2 * index + 1], dtype)[tf.newaxis]
            else:
                h0 = c0 = tf.zeros([num_dirs, batch, units], dtype)
            outputs, h_last, c_last = lstm_sequence(projected, h0, c0, recurrent)
            for d in range(num_dirs):
                final_states += [h_last[d], c_last[d]]
            if num_dirs == 1:
                x = outputs[:, 0]
            else:
                x = tf.concat([outputs[:, 0], tf.reverse(outputs[:, 1], axis=[0])], axis=-1)
        return tf.transpose(x, [1, 0, 2]), final_states

    def _call_keras(self, inputs, conditioning, initial_states):
        """:meth:`call` through :func:`keras_lstm`, one layer and direction at a time."""
        dtype = self.compute_dtype
        x = tf.cast(inputs, dtype)  # [B, T, D]
        batch = tf.shape(x)[0]
        if self.conditioning_dim:
            conditioning = tf.cast(conditioning, dtype)[:, tf.newaxis]
            x = tf.concat([x, tf.broadcast_to(
                conditioning, [batch, tf.shape(x)[1], self.conditioning_dim])], axis=-1)
        final_states = []
        for index, (units, layer) in enumerate(zip(self.units, self.cell_weights)):
            if initial_states is not None:
                h0 = tf.cast(initial_states[2 * index], dtype)
                c0 = tf.cast(initial_states[2 * index + 1], dtype)
            else:
                h0 = c0 = tf.zeros([batch, units], dtype)
            outputs = []
            for direction, weights in zip(self.directions, layer):
                kernel, recurrent, bias = (tf.cast(w, dtype) for w in weights)
                backward = direction == "bw"
                sequence = tf.reverse(x, axis=[1]) if backward else x
                output, h, c = keras_lstm(sequence, h0, c0, kernel, recurrent, bias)
                outputs.append(tf.reverse(output, axis=[1]) if backward else output)
                final_states += [h, c]
            x = outputs[0] if len(outputs) == 1 else tf.concat(outputs, axis=-1)
        return x, final_states

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, input_dim=self.input_dim, conditioning_dim=self.conditioning_dim,
            bidirectional=self.bidirectional, impl=self.impl,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            recurrent_initializer=keras.initializers.serialize(self.recurrent_initializer))
        return config

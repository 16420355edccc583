"""Whole-sequence LSTM through Keras's own LSTM function: cuDNN on a GPU, Keras's loop elsewhere.

Why Keras's backend function (``keras.src.backend.lstm``) and not a ``keras.layers.LSTM``: the
layer owns its weights, and reusing :class:`~musicvae_tf.layers.lstm_stack.LSTMStack`'s variables
through it would mean swapping attributes of its cell or tracking every variable twice (which
changes the weight paths that ``.keras`` files and checkpoints are keyed by). The function is
exactly what ``keras.layers.LSTM`` calls with its cell's weights: it runs ``CudnnRNNV3`` when a
GPU is visible and the arguments are cuDNN-eligible (tanh / sigmoid, a bias, no unroll, which we
always pass), and raises ``NotImplementedError`` otherwise. Then, like the layer, we fall back to
Keras's generic recurrent loop (``keras.src.backend.rnn``) with the same step arithmetic.

The weight layout and gate order are the fused kernel's (``keras.layers.LSTM``'s), so both
implementations share one set of variables.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras.src import backend as keras_backend

from musicvae_tf.layers.lstm_core import lstm_cell_step

LSTM_IMPLS = ("auto", "fused", "keras")


def resolve_lstm_impl(name: str) -> str:
    """``fused`` or ``keras`` for a ``model.lstm_impl`` value; ``auto`` is keras on a GPU."""
    if name not in LSTM_IMPLS:
        raise ValueError(f"unknown lstm_impl {name!r}; choose one of: {', '.join(LSTM_IMPLS)}")
    if name != "auto":
        return name
    return "keras" if tf.config.list_logical_devices("GPU") else "fused"


def keras_lstm(inputs, h0, c0, kernel, recurrent_kernel, bias):
    """One LSTM layer over ``inputs [B, T, F]`` from ``(h0, c0)`` each ``[B, H]``.

    ``kernel [F, 4H]``, ``recurrent_kernel [H, 4H]``, ``bias [4H]`` in Keras's gate order.
    Returns ``(outputs [B, T, H], h_T, c_T)``.
    """
    try:
        _, outputs, (h, c) = keras_backend.lstm(
            inputs, h0, c0, None, kernel=kernel, recurrent_kernel=recurrent_kernel, bias=bias,
            activation=keras.activations.tanh, recurrent_activation=keras.activations.sigmoid,
            return_sequences=True, go_backwards=False, unroll=False)
        return outputs, h, c
    except NotImplementedError:
        pass
    # The generic loop steps pre-projected inputs: one matmul for all steps, as Keras's cell
    # would compute x_t @ kernel + bias at every step.
    projected = tf.einsum("btf,fg->btg", inputs, kernel) + bias

    def step(z_t, states):
        h, c = lstm_cell_step(z_t, states[0], states[1], recurrent_kernel)
        return h, [h, c]

    _, outputs, (h, c) = keras_backend.rnn(step, projected, [h0, c0], unroll=False)
    return outputs, h, c

"""The LSTM recurrence as pure tensor functions, with a hand-written backward pass.

Why not ``keras.layers.LSTM``: on CPU its loop does ``x_t @ kernel + h @ recurrent_kernel`` at
every step and TensorFlow's automatic gradient of the loop accumulates the weight gradients one
small matmul per step. Here the caller projects the inputs of ALL steps with one large matmul
before the loop, the loop itself only does ``h @ recurrent_kernel`` plus the gate arithmetic, and
the backward pass (``tf.custom_gradient``) only propagates ``dz @ recurrent_kernel^T`` per step;
the recurrent-weight gradient is one large matmul over all steps after the loop. The trade-off:
this never uses cuDNN; on a GPU whole sequences go through :mod:`musicvae_tf.layers.lstm_keras`
instead (``model.lstm_impl``), over the same weights.

Gate order and weight layout are Keras's (``i, f, c, o``; kernel ``[in, 4H]``, recurrent kernel
``[H, 4H]``, bias ``[4H]``), so weights can be copied to or from ``keras.layers.LSTM``.

Shapes: ``D`` is a leading "direction" axis so the forward and backward directions of a
bidirectional layer run in the same loop with one batched matmul per step (``D`` = 1 or 2).
This module is TensorFlow-specific on purpose (``tf.while_loop``, ``tf.custom_gradient``).
"""

from __future__ import annotations

import tensorflow as tf


def lstm_gates(z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Split pre-activations ``[..., 4H]`` into activated gates ``(i, f, g, o)``."""
    zi, zf, zg, zo = tf.split(z, 4, axis=-1)
    return tf.sigmoid(zi), tf.sigmoid(zf), tf.tanh(zg), tf.sigmoid(zo)


def lstm_cell_step(z_input: tf.Tensor, h: tf.Tensor, c: tf.Tensor,
                   recurrent_kernel: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """One LSTM step given the already projected input ``z_input = x @ kernel + bias``.

    ``z_input`` [B, 4H], ``h``/``c`` [B, H], ``recurrent_kernel`` [H, 4H]. Returns ``(h, c)``.
    """
    i, f, g, o = lstm_gates(z_input + tf.matmul(h, recurrent_kernel))
    c = f * c + i * g
    return o * tf.tanh(c), c


def _recurrent_matmul(h: tf.Tensor, kernel: tf.Tensor):
    """``[D, B, K] x [D, K, N]``; plain 2-D matmul when ``D`` == 1."""
    if h.shape[0] == 1:
        return tf.matmul(h[0], kernel[0])[tf.newaxis]
    return tf.matmul(h, kernel)


@tf.custom_gradient
def lstm_sequence(projected_inputs: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor,
                  recurrent_kernel: tf.Tensor):
    """Run the LSTM recurrence over time.

    Args:
      projected_inputs: ``[T, D, B, 4H]`` time-major ``x_t @ kernel + bias`` for every step.
      h0, c0: ``[D, B, H]`` initial states.
      recurrent_kernel: ``[D, H, 4H]``.

    Returns:
      ``(outputs [T, D, B, H], h_T [D, B, H], c_T [D, B, H])``.
    """
    # Per-step reads index the stacked tensors directly: a TensorArray ``unstack`` would copy
    # them whole, which costs gigabytes for the full-size 16-bar models.
    num_steps = tf.shape(projected_inputs)[0]
    dtype = projected_inputs.dtype
    state_shape = h0.shape
    gate_shape = projected_inputs.shape[1:]

    def body(t, h, c, h_ta, c_ta, gates_ta):
        i, f, g, o = lstm_gates(projected_inputs[t] + _recurrent_matmul(h, recurrent_kernel))
        c = f * c + i * g
        h = o * tf.tanh(c)
        gates_ta = gates_ta.write(t, tf.concat([i, f, g, o], axis=-1))
        return t + 1, h, c, h_ta.write(t, h), c_ta.write(t, c), gates_ta

    def new_ta(shape):
        return tf.TensorArray(dtype, size=num_steps, element_shape=shape)

    _, h_last, c_last, h_ta, c_ta, gates_ta = tf.while_loop(
        lambda t, *_: t < num_steps, body,
        (tf.constant(0), h0, c0, new_ta(state_shape), new_ta(state_shape), new_ta(gate_shape)),
        parallel_iterations=1)
    outputs = h_ta.stack()
    cells = c_ta.stack()
    gates = gates_ta.stack()

    def grad(d_outputs, d_h_last, d_c_last):
        if d_outputs is not None:  # None when only the final state is used (encoder top)
            d_outputs = tf.cast(d_outputs, dtype)

        def back(t, dh, dc, dz_ta):
            i, f, g, o = tf.split(gates[t], 4, axis=-1)
            c = cells[t]
            c_prev = tf.where(t > 0, cells[tf.maximum(t - 1, 0)], c0)
            if d_outputs is not None:
                dh = dh + d_outputs[t]
            tanh_c = tf.tanh(c)
            dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
            dz = tf.concat([dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f),
                            dc * i * (1.0 - g * g), dh * tanh_c * o * (1.0 - o)], axis=-1)
            dh = _recurrent_matmul(dz, recurrent_transposed)
            return t - 1, dh, dc * f, dz_ta.write(t, dz)

        # One transposed copy of the kernel up front: a transposing matmul per step is ~20 %
        # slower on CPU (oneDNN) than a plain one.
        recurrent_transposed = tf.transpose(recurrent_kernel, [0, 2, 1])
        zero = tf.zeros_like(h0)
        d_h_last = zero if d_h_last is None else tf.cast(d_h_last, dtype)
        d_c_last = zero if d_c_last is None else tf.cast(d_c_last, dtype)
        _, dh0, dc0, dz_ta = tf.while_loop(
            lambda t, *_: t >= 0, back,
            (num_steps - 1, d_h_last, d_c_last, new_ta(gate_shape)), parallel_iterations=1)
        dz_all = dz_ta.stack()  # [T, D, B, 4H]
        # d recurrent_kernel = sum_t h_{t-1}^T dz_t as one large matmul per direction. Slicing
        # along time instead of concatenating h0 avoids copying the whole output sequence.
        units = h0.shape[-1]
        d_recurrent = []
        for d in range(h0.shape[0]):
            later = tf.matmul(tf.reshape(outputs[:-1, d], [-1, units]),
                              tf.reshape(dz_all[1:, d], [-1, 4 * units]), transpose_a=True)
            d_recurrent.append(later + tf.matmul(h0[d], dz_all[0, d], transpose_a=True))
        return dz_all, dh0, dc0, tf.stack(d_recurrent)

    return (outputs, h_last, c_last), grad

"""Step-by-step decoding shared by the flat and hierarchical decoders.

Used for sampling (the decoder feeds back its own outputs) and for scheduled sampling during
training (with probability ``p`` per example and step the next input is the model's own sample
instead of the ground truth). It steps the very weights that the teacher-forced path runs over
whole sequences, so with ``p = 0`` it reproduces the teacher-forced logits.

A "bar" here is a span of steps that starts from its own initial state and conditioning vector:
the flat decoder is one bar of ``T`` steps conditioned on ``z``; the hierarchical decoder has
``U`` bars conditioned on the conductor's embeddings. The input at a bar's first step is the
token chosen at the previous step (the previous bar's last token), zeros at step 0.
"""

from __future__ import annotations

import tensorflow as tf

from musicvae_tf.layers.lstm_core import lstm_cell_step


def resolve_seed(seed) -> tf.Tensor:
    """A stateless-RNG seed ``[2] int32`` from an int, a pair, a tensor, or None (random)."""
    if seed is None:
        return tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank == 0:
        seed = tf.stack([tf.cast(seed, tf.int32), tf.constant(0, tf.int32)])
    return tf.cast(seed, tf.int32)


def sample_from_logits(logits: tf.Tensor, temperature, seed: tf.Tensor) -> tf.Tensor:
    """Categorical sample of ``logits / temperature`` (``[B, C]`` -> ``[B]`` int32); argmax at 0."""
    temperature = tf.cast(temperature, logits.dtype)
    scaled = logits / tf.maximum(temperature, 1e-6)
    sampled = tf.random.stateless_categorical(scaled, 1, seed, dtype=tf.int32)[:, 0]
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.where(temperature > 0, sampled, greedy)


def decode_autoregressively(lstm, output_layer, bar_conditioning, bar_initial_states,
                            num_bars: int, steps_per_bar: int, num_classes: int, *, targets=None,
                            sampling_probability=1.0, temperature=1.0, seed=None):
    """Decode ``U * steps_per_bar`` steps one at a time.

    Args:
      lstm: a unidirectional :class:`LSTMStack` whose first-layer input is
        ``concat(previous token one-hot, bar conditioning)``.
      output_layer: maps the top ``h`` to float32 logits.
      bar_conditioning: ``[B, U, Dc]``.
      bar_initial_states: flat list ``[h_0, c_0, ...]`` each ``[B, U, H_l]``.
      targets: optional int ``[B, T]`` ground truth; the next input is the target unless the
        per-example coin (probability ``sampling_probability``) says to use the sample.
        Without targets every input is the model's own sample.
      temperature: sampling temperature (0 = argmax); scheduled sampling uses 1.
      seed: stateless seed (see :func:`resolve_seed`); same seed, same tokens.

    Returns:
      ``(logits float32 [B, T, C], tokens int32 [B, T])`` where ``tokens`` are the model's samples.
    """
    dtype = lstm.compute_dtype
    weights = lstm.step_weights()
    kernel0, _, bias0 = weights[0]
    token_kernel = kernel0[:num_classes]
    bar_conditioning = tf.cast(bar_conditioning, dtype)
    bar_projection = tf.einsum("bud,dg->bug", bar_conditioning, kernel0[num_classes:]) + bias0
    bar_initial_states = [tf.cast(s, dtype) for s in bar_initial_states]
    batch = tf.shape(bar_conditioning)[0]
    num_steps = num_bars * steps_per_bar
    sample_seed, coin_seed = tf.unstack(tf.random.experimental.stateless_split(
        resolve_seed(seed), 2))
    probability = tf.convert_to_tensor(sampling_probability, tf.float32)

    def body(t, previous, states, logits_ta, tokens_ta):
        bar = t // steps_per_bar
        bar_start = tf.equal(t % steps_per_bar, 0)
        states = [tf.where(bar_start, s0[:, bar], s) for s0, s in zip(bar_initial_states, states)]
        x_projection = (tf.matmul(tf.one_hot(previous, num_classes, dtype=dtype), token_kernel)
                        + bar_projection[:, bar])
        new_states = []
        for index, (kernel, recurrent_kernel, bias) in enumerate(weights):
            if index > 0:
                x_projection = tf.matmul(h, kernel) + bias
            h, c = lstm_cell_step(x_projection, states[2 * index], states[2 * index + 1],
                                  recurrent_kernel)
            new_states += [h, c]
        logits = tf.cast(output_layer(tf.cast(h, tf.float32)), tf.float32)
        step_seed = tf.random.experimental.stateless_fold_in(sample_seed, t)
        sampled = sample_from_logits(logits, temperature, step_seed)
        if targets is None:
            chosen = sampled
        else:
            coin = tf.random.stateless_uniform(
                [batch], tf.random.experimental.stateless_fold_in(coin_seed, t))
            chosen = tf.where(coin < probability, sampled, tf.cast(targets[:, t], tf.int32))
        return t + 1, chosen, new_states, logits_ta.write(t, logits), tokens_ta.write(t, sampled)

    states = [tf.zeros_like(s[:, 0]) for s in bar_initial_states]
    first = -tf.ones([batch], tf.int32)  # one_hot(-1) is all zeros: the zero first input
    _, _, _, logits_ta, tokens_ta = tf.while_loop(
        lambda t, *_: t < num_steps, body,
        (tf.constant(0), first, states,
         tf.TensorArray(tf.float32, size=num_steps), tf.TensorArray(tf.int32, size=num_steps)))
    logits = tf.transpose(logits_ta.stack(), [1, 0, 2])
    tokens = tf.transpose(tokens_ta.stack(), [1, 0])
    return logits, tokens

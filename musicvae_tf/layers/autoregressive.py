"""Step-by-step decoding shared by the flat and hierarchical decoders.

Used for sampling (the decoder feeds back its own outputs) and for scheduled sampling during
training (with probability ``p`` per example and step the next input is the model's own sample
instead of the ground truth). It steps the very weights that the teacher-forced path runs over
whole sequences, so with ``p = 0`` it reproduces the teacher-forced logits.

A "bar" here is a span of steps that starts from its own initial state and conditioning vector:
the flat decoder is one bar of ``T`` steps conditioned on ``z``; the hierarchical decoder has
``U`` bars conditioned on the conductor's embeddings. The input at a bar's first step is the
token chosen at the previous step (the previous bar's last token), zeros at step 0. Several
output splits (one softmax per track) are sampled one by one and fed back as concatenated
one-hots; per-step controls (chords) join every step's input.
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


class DecoderCore:
    """One recurrent core that :func:`decode_autoregressively` steps: an ``LSTMStack`` whose
    first-layer input is ``concat(previous one-hots of its splits, controls, bar conditioning)``,
    its output layer (float32 logits of ``sum(splits)``), its bar initial states (flat list
    ``[h_0, c_0, ...]`` each ``[B, U, H_l]``) and the output splits it reads and writes."""

    def __init__(self, lstm, output_layer, bar_initial_states, splits):
        self.lstm, self.output_layer = lstm, output_layer
        self.bar_initial_states = bar_initial_states
        self.splits = tuple(int(s) for s in splits)


def decode_autoregressively(cores, bar_conditioning, num_bars: int, steps_per_bar: int, *,
                            controls=None, targets=None, sampling_probability=1.0,
                            temperature=1.0, seed=None):
    """Decode ``U * steps_per_bar`` steps one at a time.

    Args:
      cores: :class:`DecoderCore` list; their splits, in order, are the output splits (one core of
        one split for a melody; one core of several splits is Magenta's multi-output decoder; one
        core per split its split decoder). Every core sees the same conditioning and controls.
      bar_conditioning: ``[B, U, Dc]``.
      controls: optional float ``[B, T, C]``: step t's input holds the controls of step t.
      targets: optional int ``[B, T]`` (one split) or ``[B, T, splits]`` ground truth; the next
        input is the target unless the per-example coin (probability ``sampling_probability``)
        says to use the sample. Without targets every input is the model's own sample.
      temperature: sampling temperature (0 = argmax); scheduled sampling uses 1.
      seed: stateless seed (see :func:`resolve_seed`); same seed, same tokens.

    Returns:
      ``(logits float32 [B, T, sum(splits)], tokens int32 [B, T] for one split else
      [B, T, splits])`` where ``tokens`` are the model's samples.
    """
    splits = [size for core in cores for size in core.splits]
    dtype = cores[0].lstm.compute_dtype
    bar_conditioning = tf.cast(bar_conditioning, dtype)
    batch = tf.shape(bar_conditioning)[0]
    num_steps = num_bars * steps_per_bar
    control_depth = 0 if controls is None else int(controls.shape[-1])
    stepped = []
    for core in cores:
        weights = core.lstm.step_weights()
        kernel0, _, bias0 = weights[0]
        width = sum(core.splits)
        projection = tf.einsum("bud,dg->bug", bar_conditioning,
                               kernel0[width + control_depth:]) + bias0
        control_projection = (None if controls is None else tf.einsum(
            "btc,cg->btg", tf.cast(controls, dtype), kernel0[width:width + control_depth]))
        stepped.append((core, weights, kernel0[:width], projection, control_projection,
                        [tf.cast(s, dtype) for s in core.bar_initial_states]))
    if targets is not None and len(splits) == 1 and targets.shape.rank == 2:
        targets = targets[..., tf.newaxis]
    sample_seed, coin_seed = tf.unstack(tf.random.experimental.stateless_split(
        resolve_seed(seed), 2))
    probability = tf.convert_to_tensor(sampling_probability, tf.float32)

    def body(t, previous, states, logits_ta, tokens_ta):
        bar = t // steps_per_bar
        bar_start = tf.equal(t % steps_per_bar, 0)
        step_seed = tf.random.experimental.stateless_fold_in(sample_seed, t)
        all_logits, all_samples, new_states, split = [], [], [], 0
        for (core, weights, token_kernel, projection, control_projection, initial), \
                core_states in zip(stepped, states):
            core_states = [tf.where(bar_start, s0[:, bar], s) for s0, s in zip(initial, core_states)]
            one_hot = tf.concat([tf.one_hot(previous[:, split + j], size, dtype=dtype)
                                 for j, size in enumerate(core.splits)], axis=-1)
            x_projection = tf.matmul(one_hot, token_kernel) + projection[:, bar]
            if control_projection is not None:
                x_projection += control_projection[:, t]
            layer_states, h = [], None
            for index, (kernel, recurrent_kernel, bias) in enumerate(weights):
                if h is not None:
                    x_projection = tf.matmul(h, kernel) + bias
                h, c = lstm_cell_step(x_projection, core_states[2 * index],
                                      core_states[2 * index + 1], recurrent_kernel)
                layer_states += [h, c]
            new_states.append(layer_states)
            logits = tf.cast(core.output_layer(tf.cast(h, tf.float32)), tf.float32)
            all_logits.append(logits)
            for part in tf.split(logits, core.splits, axis=-1):
                part_seed = (step_seed if len(splits) == 1
                             else tf.random.experimental.stateless_fold_in(step_seed, split))
                all_samples.append(sample_from_logits(part, temperature, part_seed))
                split += 1
        sampled = tf.stack(all_samples, axis=-1)
        if targets is None:
            chosen = sampled
        else:
            coin = tf.random.stateless_uniform(
                [batch], tf.random.experimental.stateless_fold_in(coin_seed, t))
            chosen = tf.where((coin < probability)[:, tf.newaxis], sampled,
                              tf.cast(targets[:, t], tf.int32))
        logits = tf.concat(all_logits, axis=-1)
        return t + 1, chosen, new_states, logits_ta.write(t, logits), tokens_ta.write(t, sampled)

    states = [[tf.zeros_like(s[:, 0]) for s in core.bar_initial_states] for core in cores]
    first = -tf.ones([batch, len(splits)], tf.int32)  # one_hot(-1) is all zeros: the zero input
    _, _, _, logits_ta, tokens_ta = tf.while_loop(
        lambda t, *_: t < num_steps, body,
        (tf.constant(0), first, states,
         tf.TensorArray(tf.float32, size=num_steps), tf.TensorArray(tf.int32, size=num_steps)),
        maximum_iterations=num_steps)  # a static bound: XLA needs it to differentiate the loop
    logits = tf.transpose(logits_ta.stack(), [1, 0, 2])
    tokens = tf.transpose(tokens_ta.stack(), [1, 0, 2])
    return logits, tokens[..., 0] if len(splits) == 1 else tokens

"""The PianoTree VAE (SPEC_MODELS §C) as Keras 3 layers.

Encoder: each step's onset list (note vectors, PianoTree's 135 values, after a learned SOS
vector so that no list is empty) through a bidirectional note GRU; the 32 step vectors through a
bidirectional time GRU; Dense -> mu, Dense -> softplus -> sigma.

Decoder: z sets the time GRU's initial state and a projection of z joins every time input,
beside a bidirectional-GRU summary of the previous step's notes. Per step a note GRU emits pitch
logits (128 pitches + EOS) slot by slot, and per note a 5-step duration GRU emits the bits of
``duration - 1``, MSB first. Training uses full teacher forcing at all three levels (our choice:
PianoTree anneals it; see ``task.py``). Sampling keeps each step's pitches strictly ascending
(the encoding's order) by masking lower pitches, and the last slot can only be EOS.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from data_pipelines.encodings.pianotree import (DURATION_BITS, EOS, NOTE_CLASSES, PAD, SOS,
                                                duration_bits)

PITCH_OUTPUTS = 129  # 128 pitches and EOS (index 128)
IGNORE = -1


def note_vectors(pitch_classes, bits):
    """Note vectors ``[..., 135]`` float32: one-hot of pitch classes (0..129, -1 -> zeros) and
    duration bits."""
    return ops.concatenate([ops.one_hot(pitch_classes, NOTE_CLASSES),
                            ops.cast(bits, "float32")], axis=-1)


def targets_of(tokens):
    """Decoder targets of trees ``[B, T, N, 2]``: pitch classes ``[B, T, N + 1]`` (EOS after the
    last note, IGNORE after it) and duration bits ``[B, T, N + 1, 5]`` (zeros where no note)."""
    tokens = tf.cast(tokens, tf.int32)
    pitch = tf.pad(tokens[..., 0], [[0, 0], [0, 0], [0, 1]], constant_values=PAD)
    duration = tf.pad(tokens[..., 1], [[0, 0], [0, 0], [0, 1]])
    present = pitch < PAD
    count = tf.reduce_sum(tf.cast(present, tf.int32), -1, keepdims=True)
    slot = tf.range(tf.shape(pitch)[-1])
    classes = tf.where(present, pitch, tf.where(slot == count, EOS - 1, IGNORE))
    bits = duration_bits(duration) * tf.cast(present, tf.float32)[..., None]
    return classes, bits


def crop_slots(inputs, tokens):
    """``inputs`` and ``tokens`` cut to the batch's largest onset count (at least one slot): the
    note-level RNNs then skip the PAD slots that no window of the batch uses."""
    used = tf.reduce_max(tf.reduce_sum(tf.cast(tokens[..., 0] < PAD, tf.int32), -1))
    used = tf.maximum(used, 1)
    return inputs[:, :, :used], tokens[:, :, :used]


@keras.saving.register_keras_serializable(package="musicvae_tf")
class PianoTreeEncoder(keras.layers.Layer):
    """Note vectors ``[B, T, N, 135]`` -> ``(mu, sigma)`` ``[B, latent_dim]``."""

    def __init__(self, note_embedding, note_units, time_units, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.note_embedding, self.note_units = int(note_embedding), int(note_units)
        self.time_units, self.latent_dim = int(time_units), int(latent_dim)
        self.embed = keras.layers.Dense(self.note_embedding, name="note_embedding")
        self.note_rnn = keras.layers.Bidirectional(keras.layers.GRU(self.note_units),
                                                   name="note_rnn")
        self.time_rnn = keras.layers.Bidirectional(keras.layers.GRU(self.time_units),
                                                   name="time_rnn")
        self.mu = keras.layers.Dense(self.latent_dim, name="mu")
        self.sigma = keras.layers.Dense(self.latent_dim, name="sigma")

    def build(self, input_shape):
        steps, slots, depth = input_shape[1:]
        self.sos = self.add_weight(shape=(depth,), initializer="zeros", name="sos")
        self.embed.build((None, depth))
        self.note_rnn.build((None, slots + 1, self.note_embedding))
        self.time_rnn.build((None, steps, 2 * self.note_units))
        self.mu.build((None, 2 * self.time_units))
        self.sigma.build((None, 2 * self.time_units))

    def call(self, inputs, training=False):
        shape = ops.shape(inputs)
        batch, steps, slots, depth = shape[0], shape[1], shape[2], shape[3]
        lists = ops.reshape(inputs, (batch * steps, slots, depth))
        present = ops.any(lists > 0, axis=-1)
        start = ops.broadcast_to(ops.cast(self.sos, lists.dtype), (batch * steps, 1, depth))
        sos = ops.cast(note_vectors(SOS, ops.zeros(5)), lists.dtype)[None, None]
        lists = ops.concatenate([start + sos, lists], axis=1)
        mask = ops.concatenate([ops.ones((batch * steps, 1), "bool"), present], axis=1)
        per_step = self.note_rnn(self.embed(lists), mask=mask, training=training)
        summary = self.time_rnn(ops.reshape(per_step, (batch, steps, 2 * self.note_units)),
                                training=training)
        return self.mu(summary), ops.softplus(self.sigma(summary)) + 1e-5

    def get_config(self):
        return {**super().get_config(), "note_embedding": self.note_embedding,
                "note_units": self.note_units, "time_units": self.time_units,
                "latent_dim": self.latent_dim}


@keras.saving.register_keras_serializable(package="musicvae_tf")
class PianoTreeDecoder(keras.layers.Layer):
    """z -> per-step pitch logits and duration-bit logits (teacher-forced or sampled)."""

    def __init__(self, num_steps, max_notes, note_embedding, z_input, summary_units, time_units,
                 note_units, duration_units, **kwargs):
        super().__init__(**kwargs)
        self.num_steps, self.max_notes = int(num_steps), int(max_notes)
        self.note_embedding, self.z_input = int(note_embedding), int(z_input)
        self.summary_units, self.time_units = int(summary_units), int(time_units)
        self.note_units, self.duration_units = int(note_units), int(duration_units)
        self.embed = keras.layers.Dense(self.note_embedding, name="note_embedding")
        self.z_projection = keras.layers.Dense(self.z_input, name="z_input")
        self.time_initial = keras.layers.Dense(self.time_units, activation="tanh",
                                               name="time_initial")
        self.summary_rnn = keras.layers.Bidirectional(keras.layers.GRU(self.summary_units),
                                                      name="summary_rnn")
        self.time_rnn = keras.layers.GRU(self.time_units, return_sequences=True, name="time_rnn")
        self.note_initial = keras.layers.Dense(self.note_units, activation="tanh",
                                               name="note_initial")
        self.note_rnn = keras.layers.GRU(self.note_units, return_sequences=True, name="note_rnn")
        self.pitch_logits = keras.layers.Dense(PITCH_OUTPUTS, name="pitch_logits")
        self.duration_initial = keras.layers.Dense(self.duration_units, activation="tanh",
                                                   name="duration_initial")
        self.duration_rnn = keras.layers.GRU(self.duration_units, return_sequences=True,
                                             name="duration_rnn")
        self.bit_logits = keras.layers.Dense(2, name="bit_logits")

    def build(self, input_shape):
        latent = input_shape[-1]
        width = NOTE_CLASSES + DURATION_BITS
        self.first_summary = self.add_weight(shape=(2 * self.summary_units,),
                                             initializer="zeros", name="first_summary")
        self.embed.build((None, width))
        self.z_projection.build((None, latent))
        self.time_initial.build((None, latent))
        self.summary_rnn.build((None, self.max_notes + 1, self.note_embedding))
        self.time_rnn.build((None, self.num_steps, 2 * self.summary_units + self.z_input))
        self.note_initial.build((None, self.time_units))
        self.note_rnn.build((None, self.max_notes + 1, self.time_units + self.note_embedding))
        self.pitch_logits.build((None, self.note_units))
        self.duration_initial.build((None, self.note_units + PITCH_OUTPUTS))
        self.duration_rnn.build((None, DURATION_BITS, 3))
        self.bit_logits.build((None, self.duration_units))

    def _sos_lists(self, classes, bits):
        """Embedded ``[SOS, notes...]`` lists ``[..., N + 1, E]`` and their masks from per-slot
        pitch classes ``[..., N]`` (IGNORE / EOS after the notes) and bits ``[..., N, 5]``."""
        present = (classes >= 0) & (classes < EOS - 1)
        vectors = note_vectors(tf.where(present, classes, IGNORE),
                               tf.cast(bits, tf.float32) * tf.cast(present, tf.float32)[..., None])
        sos = tf.broadcast_to(note_vectors(tf.constant(SOS), tf.zeros(5))[None],
                              tf.concat([tf.shape(classes)[:-1], [1, NOTE_CLASSES + 5]], 0))
        lists = tf.concat([sos, vectors], axis=-2)
        mask = tf.concat([tf.ones_like(present[..., :1]), present], axis=-1)
        return self.embed(lists), mask

    def _summary(self, embedded, mask, training=False):
        shape = tf.shape(embedded)
        flat = tf.reshape(embedded, [-1, shape[-2], self.note_embedding])
        summary = self.summary_rnn(flat, mask=tf.reshape(mask, [-1, shape[-2]]),
                                   training=training)
        return tf.reshape(summary, tf.concat([shape[:-2], [2 * self.summary_units]], 0))

    def call(self, z, classes, bits, training=False):
        """Teacher-forced ``(pitch logits [B, T, N + 1, 129], bit logits [B, T, N + 1, 5, 2])``
        given targets ``classes [B, T, N + 1]`` and ``bits [B, T, N + 1, 5]``."""
        batch, steps, slots = tf.shape(classes)[0], self.num_steps, tf.shape(classes)[2]
        embedded, mask = self._sos_lists(classes[..., :-1], bits[..., :-1, :])
        summaries = self._summary(embedded, mask, training)  # [B, T, 2S] of each step's notes
        first = tf.broadcast_to(tf.cast(self.first_summary, summaries.dtype)[None, None],
                                [batch, 1, 2 * self.summary_units])
        previous = tf.concat([first, summaries[:, :-1]], axis=1)
        z_in = tf.broadcast_to(self.z_projection(z)[:, None], [batch, steps, self.z_input])
        time_out = self.time_rnn(tf.concat([previous, z_in], -1),
                                 initial_state=self.time_initial(z), training=training)
        flat_time = tf.reshape(time_out, [-1, self.time_units])
        note_inputs = tf.concat([tf.broadcast_to(flat_time[:, None], [batch * steps, slots,
                                                                      self.time_units]),
                                 tf.reshape(embedded, [-1, slots, self.note_embedding])], -1)
        hidden = self.note_rnn(note_inputs, initial_state=self.note_initial(flat_time),
                               training=training)
        pitch_logits = self.pitch_logits(hidden)
        true_pitch = tf.one_hot(tf.reshape(classes, [-1, slots]), PITCH_OUTPUTS)
        bit_logits = self._bits_forced(hidden, true_pitch, tf.reshape(bits, [-1, slots, 5]),
                                       training)
        return (tf.reshape(pitch_logits, [batch, steps, slots, PITCH_OUTPUTS]),
                tf.reshape(bit_logits, [batch, steps, slots, DURATION_BITS, 2]))

    def _bits_forced(self, hidden, pitch, bits, training=False):
        flat_hidden = tf.reshape(hidden, [-1, self.note_units])
        state = self.duration_initial(tf.concat([flat_hidden, tf.reshape(
            tf.cast(pitch, flat_hidden.dtype), [-1, PITCH_OUTPUTS])], -1))
        previous = tf.one_hot(tf.cast(tf.reshape(bits, [-1, DURATION_BITS])[:, :-1], tf.int32), 3)
        start = tf.one_hot(tf.fill([tf.shape(previous)[0], 1], 2), 3)
        inputs = tf.cast(tf.concat([start, previous], 1), flat_hidden.dtype)
        return self.bit_logits(self.duration_rnn(inputs, initial_state=state, training=training))

    def sample(self, z, temperature=0.0, seed=None):
        """Trees int32 ``[B, T, N, 2]`` decoded step by step (temperature 0: greedy)."""
        batch = tf.shape(z)[0]
        generator = tf.random.Generator.from_seed(0 if seed is None else int(seed))
        state = self.time_initial(z)
        z_in = self.z_projection(z)
        summary = tf.broadcast_to(tf.cast(self.first_summary, z.dtype)[None],
                                  [batch, 2 * self.summary_units])
        steps = []
        for _ in range(self.num_steps):
            noise = generator.uniform([self.max_notes + 1, DURATION_BITS + 1, batch,
                                       PITCH_OUTPUTS], 1e-6, 1.0 - 1e-6)
            state, tree, summary = self._sample_step(state, z_in, summary,
                                                     tf.constant(temperature, tf.float32), noise)
            steps.append(tree)
        return tf.stack(steps, axis=1)

    @tf.function(reduce_retracing=True)
    def _sample_step(self, state, z_in, summary, temperature, noise):
        time_out, _ = self.time_rnn.cell(tf.concat([summary, z_in], -1), [state])
        hidden = self.note_initial(time_out)
        batch = tf.shape(time_out)[0]
        previous = self.embed(tf.broadcast_to(note_vectors(tf.constant(SOS), tf.zeros(5))[None],
                                              [batch, NOTE_CLASSES + 5]))
        lowest = tf.zeros([batch], tf.int32)
        done = tf.zeros([batch], tf.bool)
        pitches = tf.TensorArray(tf.int32, size=self.max_notes + 1)
        durations = tf.TensorArray(tf.int32, size=self.max_notes + 1)
        classes = tf.range(PITCH_OUTPUTS)[None]
        for slot in tf.range(self.max_notes + 1):
            hidden, _ = self.note_rnn.cell(tf.concat([time_out, previous], -1), [hidden])
            logits = tf.cast(self.pitch_logits(hidden), tf.float32)
            allowed = tf.where(slot == self.max_notes, classes == EOS - 1,
                               (classes >= lowest[:, None]) | (classes == EOS - 1))
            pitch = _choose(tf.where(allowed, logits, -1e9), temperature, noise[slot, 0])
            pitch_one_hot = tf.one_hot(pitch, PITCH_OUTPUTS, dtype=hidden.dtype)
            bits = self._sample_bits(hidden, pitch_one_hot, temperature, noise[slot, 1:])
            done = done | (pitch == EOS - 1)
            pitches = pitches.write(slot, tf.where(done, PAD, pitch))
            durations = durations.write(slot, tf.where(done, 0, _bits_value(bits)))
            lowest = pitch + 1
            previous = tf.cast(self.embed(note_vectors(tf.where(done, EOS, pitch), tf.cast(
                bits, tf.float32) * tf.cast(~done, tf.float32)[:, None])), previous.dtype)
        tree = tf.stack([tf.transpose(pitches.stack()[:-1]),
                         tf.transpose(durations.stack()[:-1])], -1)
        embedded, mask = self._sos_lists(tree[..., 0], duration_bits(tree[..., 1]))
        return time_out, tree, tf.cast(self._summary(embedded, mask), time_out.dtype)

    def _sample_bits(self, hidden, pitch_one_hot, temperature, noise):
        state = self.duration_initial(tf.concat([hidden, pitch_one_hot], -1))
        previous = tf.one_hot(tf.fill([tf.shape(hidden)[0]], 2), 3, dtype=hidden.dtype)
        bits = []
        for index in range(DURATION_BITS):
            out, _ = self.duration_rnn.cell(previous, [state])
            state = out
            bit = _choose(tf.cast(self.bit_logits(out), tf.float32), temperature,
                          noise[index, :, :2])
            bits.append(bit)
            previous = tf.one_hot(bit, 3, dtype=hidden.dtype)
        return tf.stack(bits, -1)

    def get_config(self):
        return {**super().get_config(), "num_steps": self.num_steps,
                "max_notes": self.max_notes, "note_embedding": self.note_embedding,
                "z_input": self.z_input, "summary_units": self.summary_units,
                "time_units": self.time_units, "note_units": self.note_units,
                "duration_units": self.duration_units}


def _choose(logits, temperature, uniform):
    """Argmax at temperature 0, else a Gumbel-max draw from ``logits / temperature``."""
    gumbel = -tf.math.log(-tf.math.log(uniform))
    drawn = tf.argmax(logits / tf.maximum(temperature, 1e-6) + gumbel, -1, output_type=tf.int32)
    return tf.where(temperature > 0, drawn, tf.argmax(logits, -1, output_type=tf.int32))


def _bits_value(bits):
    weights = tf.constant([2 ** (DURATION_BITS - 1 - i) for i in range(DURATION_BITS)])
    return tf.reduce_sum(bits * weights, -1)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class PianoTreeVAE(keras.Model):
    """The PianoTree VAE: ``encode(note vectors) -> (mu, sigma)``, ``decode_logits`` (teacher
    forced) and ``sample_tokens(z)`` -> trees ``[B, T, N, 2]``."""

    def __init__(self, num_steps, max_notes, latent_dim, note_embedding=128,
                 encoder_note_units=256, encoder_time_units=512, z_input=256, summary_units=128,
                 decoder_time_units=1024, decoder_note_units=512, duration_units=64, **kwargs):
        super().__init__(**kwargs)
        self.sizes = dict(num_steps=int(num_steps), max_notes=int(max_notes),
                          latent_dim=int(latent_dim), note_embedding=int(note_embedding),
                          encoder_note_units=int(encoder_note_units),
                          encoder_time_units=int(encoder_time_units), z_input=int(z_input),
                          summary_units=int(summary_units),
                          decoder_time_units=int(decoder_time_units),
                          decoder_note_units=int(decoder_note_units),
                          duration_units=int(duration_units))
        self.num_steps, self.max_notes = int(num_steps), int(max_notes)
        self.latent_dim = int(latent_dim)
        self.encoder = PianoTreeEncoder(note_embedding, encoder_note_units, encoder_time_units,
                                        latent_dim, name="encoder")
        self.decoder = PianoTreeDecoder(num_steps, max_notes, note_embedding, z_input,
                                        summary_units, decoder_time_units, decoder_note_units,
                                        duration_units, name="decoder")

    def build(self, input_shape=None):
        self.encoder.build((None, self.num_steps, self.max_notes, NOTE_CLASSES + DURATION_BITS))
        self.decoder.build((None, self.latent_dim))
        self.built = True

    def encode(self, inputs, training=False):
        """``(mu, sigma)`` of note vectors ``[B, T, N, 135]``."""
        return self.encoder(inputs, training=training)

    def decode_logits(self, z, classes, bits, training=False):
        """Teacher-forced pitch and bit logits (see :class:`PianoTreeDecoder`)."""
        return self.decoder(z, classes, bits, training=training)

    def call(self, inputs, training=False):
        mu, _ = self.encode(inputs, training)
        return mu

    def teacher_forced_tokens(self, inputs, tokens):
        """Trees of the teacher-forced argmax predictions from the posterior mean: each step's
        slots up to the first predicted EOS, with their predicted durations."""
        mu, _ = self.encode(inputs)
        classes, bits = targets_of(tokens)
        pitch_logits, bit_logits = self.decode_logits(mu, classes, bits)
        pitch = tf.argmax(pitch_logits, -1, output_type=tf.int32)[..., :-1]
        ended = tf.cumsum(tf.cast(pitch == EOS - 1, tf.int32), axis=-1) > 0
        duration = _bits_value(tf.argmax(bit_logits, -1, output_type=tf.int32))[..., :-1]
        return tf.stack([tf.where(ended, PAD, pitch), tf.where(ended, 0, duration)], -1)

    def sample_tokens(self, z, temperature=0.0, seed=None, controls=None):
        """Trees int32 ``[B, T, N, 2]`` decoded from ``z`` (no controls)."""
        return self.decoder.sample(tf.cast(z, tf.float32), temperature, seed)

    def get_config(self):
        return {**super().get_config(), **self.sizes}


def build_model(config):
    """A built PianoTree VAE for ``config`` (the piano-roll baseline with
    ``pianotree.architecture: roll``)."""
    from data_pipelines.encodings.pianotree import max_notes_of
    from musicvae_tf.models.pianotree.config import pianotree_settings

    settings = pianotree_settings(config)
    if settings.architecture == "roll":
        from musicvae_tf.models.pianotree.pianoroll import PianoRollVAE

        model = PianoRollVAE(config.data.num_steps, max_notes_of(config.data),
                             config.model.latent_dim, settings.encoder_time_units,
                             settings.decoder_time_units, settings.z_input)
        model.build()
        return model
    model = PianoTreeVAE(config.data.num_steps, max_notes_of(config.data),
                         config.model.latent_dim, settings.note_embedding,
                         settings.encoder_note_units, settings.encoder_time_units,
                         settings.z_input, settings.summary_units, settings.decoder_time_units,
                         settings.decoder_note_units, settings.duration_units)
    model.build()
    return model

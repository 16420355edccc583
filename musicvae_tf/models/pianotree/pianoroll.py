"""The piano-roll baseline VAE for the PianoTree comparison (SPEC_MODELS §C "PR-RNN"): same data,
split and latent size, but each step is a 128-pitch roll of silence / sustain / onset.

Encoder: the roll's onset and sustain planes (256 values per step) through a bidirectional GRU
-> mu, softplus -> sigma. Decoder: z sets a GRU's initial state and joins every input beside
the previous step's roll (teacher forced in training); each step emits 3-way logits per pitch.
Loss: the cross-entropy summed over steps and pitches. Decoded rolls become trees again (an
onset, then its consecutive sustain steps, at most 32; a sustain without an onset is dropped;
more than ``max_notes`` onsets per step keep the lowest), so sampling, MIDI output and the F1
evaluation are the PianoTree model's.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from data_pipelines.encodings.pianotree import MAX_DURATION, PAD

SILENCE, SUSTAIN, ONSET = 0, 1, 2


def roll_states(note_vectors):
    """Roll states int32 ``[B, T, 128]`` (0 silence, 1 sustain, 2 onset) of the encoder's note
    vectors ``[B, T, N, 135]`` (pitch one-hot first, the 5 duration bits last)."""
    vectors = tf.cast(note_vectors, tf.float32)
    pitch = vectors[..., :128]
    bits = vectors[..., -5:]
    duration = tf.reduce_sum(bits * tf.constant([16., 8., 4., 2., 1.]), -1) + 1.0  # [B, T, N]
    steps = tf.shape(vectors)[1]
    start = tf.cast(tf.range(steps), tf.float32)[:, None, None]  # s
    time = tf.cast(tf.range(steps), tf.float32)[None, None, :]  # t
    held = tf.cast((time > start) & (time < start + duration[..., None]), tf.float32)
    sustain = tf.einsum("bsnt,bsnp->btp", held, pitch) > 0
    onset = tf.reduce_sum(pitch, 2) > 0
    return tf.where(onset, ONSET, tf.where(sustain, SUSTAIN, SILENCE))


def roll_to_tree(states, max_notes: int):
    """Trees int32 ``[B, T, max_notes, 2]`` of roll states ``[B, T, 128]`` (tf ops)."""
    states = tf.convert_to_tensor(states, tf.int32)
    # Length of each onset's run of sustains: scan the roll backwards.
    sustained = tf.cast(tf.equal(states, SUSTAIN), tf.int32)

    def backward(following, column):
        return column * (following + 1)

    runs = tf.scan(backward, tf.reverse(tf.transpose(sustained, [1, 0, 2]), [0]),
                   initializer=tf.zeros_like(sustained[:, 0]))
    runs = tf.transpose(tf.reverse(runs, [0]), [1, 0, 2])  # sustains from t on
    after = tf.concat([runs[:, 1:], tf.zeros_like(runs[:, :1])], 1)
    duration = tf.minimum(after + 1, MAX_DURATION) - 1
    onset = tf.equal(states, ONSET)
    pitches = tf.range(128)
    key = tf.where(onset, pitches, 128 + pitches)  # onsets first, in pitch order
    order = tf.argsort(key, axis=-1)[..., :max_notes]
    chosen = tf.gather(onset, order, batch_dims=2)
    return tf.stack([tf.where(chosen, order, PAD),
                     tf.where(chosen, tf.gather(duration, order, batch_dims=2), 0)], -1)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class PianoRollVAE(keras.Model):
    """Piano-roll VAE: ``encode(note vectors) -> (mu, sigma)``, ``sample_tokens(z)`` -> trees."""

    def __init__(self, num_steps, max_notes, latent_dim, encoder_units=256, decoder_units=512,
                 z_input=128, **kwargs):
        super().__init__(**kwargs)
        self.num_steps, self.max_notes = int(num_steps), int(max_notes)
        self.latent_dim, self.encoder_units = int(latent_dim), int(encoder_units)
        self.decoder_units, self.z_input = int(decoder_units), int(z_input)
        self.encoder_rnn = keras.layers.Bidirectional(keras.layers.GRU(self.encoder_units),
                                                      name="encoder_rnn")
        self.mu = keras.layers.Dense(self.latent_dim, name="mu")
        self.sigma = keras.layers.Dense(self.latent_dim, name="sigma")
        self.initial = keras.layers.Dense(self.decoder_units, activation="tanh", name="initial")
        self.z_projection = keras.layers.Dense(self.z_input, name="z_input")
        self.decoder_rnn = keras.layers.GRU(self.decoder_units, return_sequences=True,
                                            name="decoder_rnn")
        self.logits = keras.layers.Dense(128 * 3, name="state_logits")

    def build(self, input_shape=None):
        self.encoder_rnn.build((None, self.num_steps, 256))
        self.mu.build((None, 2 * self.encoder_units))
        self.sigma.build((None, 2 * self.encoder_units))
        self.initial.build((None, self.latent_dim))
        self.z_projection.build((None, self.latent_dim))
        self.decoder_rnn.build((None, self.num_steps, 256 + self.z_input))
        self.logits.build((None, self.decoder_units))
        self.built = True

    @staticmethod
    def planes(states):
        """Onset and sustain planes float32 ``[B, T, 256]`` of roll states."""
        return tf.concat([tf.cast(tf.equal(states, ONSET), tf.float32),
                          tf.cast(tf.equal(states, SUSTAIN), tf.float32)], -1)

    def encode(self, inputs, training=False):
        """``(mu, sigma)`` of note vectors ``[B, T, N, 135]``."""
        planes = tf.cast(self.planes(roll_states(inputs)), self.compute_dtype)
        summary = self.encoder_rnn(planes, training=training)
        return self.mu(summary), tf.nn.softplus(self.sigma(summary)) + 1e-5

    def decode_logits(self, z, states, training=False):
        """Teacher-forced logits ``[B, T, 128, 3]`` given the true roll states."""
        planes = tf.cast(self.planes(states), self.compute_dtype)
        previous = tf.concat([tf.zeros_like(planes[:, :1]), planes[:, :-1]], 1)
        z_in = tf.broadcast_to(self.z_projection(z)[:, None],
                               [tf.shape(z)[0], self.num_steps, self.z_input])
        out = self.decoder_rnn(tf.concat([previous, z_in], -1), initial_state=self.initial(z),
                               training=training)
        return tf.reshape(self.logits(out), [tf.shape(z)[0], self.num_steps, 128, 3])

    def call(self, inputs, training=False):
        return self.encode(inputs, training)[0]

    def teacher_forced_tokens(self, inputs, tokens):
        """Trees of the teacher-forced argmax states."""
        mu, _ = self.encode(inputs)
        logits = self.decode_logits(mu, roll_states(inputs))
        return roll_to_tree(tf.argmax(logits, -1, output_type=tf.int32), self.max_notes)

    def sample_tokens(self, z, temperature=0.0, seed=None, controls=None):
        """Trees int32 ``[B, T, N, 2]`` decoded step by step (temperature 0: greedy)."""
        z = tf.cast(z, tf.float32)
        generator = tf.random.Generator.from_seed(0 if seed is None else int(seed))
        state = self.initial(z)
        z_in = self.z_projection(z)
        previous = tf.zeros([tf.shape(z)[0], 256], state.dtype)
        rolls = []
        for _ in range(self.num_steps):
            out, _ = self.decoder_rnn.cell(tf.concat([previous, z_in], -1), [state])
            state = out
            logits = tf.reshape(tf.cast(self.logits(out), tf.float32), [-1, 128, 3])
            if temperature > 0:
                gumbel = -tf.math.log(-tf.math.log(generator.uniform(tf.shape(logits), 1e-6,
                                                                     1 - 1e-6)))
                logits = logits / temperature + gumbel
            step = tf.argmax(logits, -1, output_type=tf.int32)
            rolls.append(step)
            previous = tf.cast(self.planes(step), state.dtype)
        return roll_to_tree(tf.stack(rolls, 1), self.max_notes)

    def get_config(self):
        return {**super().get_config(), "num_steps": self.num_steps,
                "max_notes": self.max_notes, "latent_dim": self.latent_dim,
                "encoder_units": self.encoder_units, "decoder_units": self.decoder_units,
                "z_input": self.z_input}


def roll_terms(model, inputs, z, training=False):
    """Per-window roll cross-entropy ``[B]`` and the state accuracy of onset-or-sustain cells."""
    states = roll_states(inputs)
    logits = tf.cast(model.decode_logits(z, states, training=training), tf.float32)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=states, logits=logits)
    active = tf.cast(states > 0, tf.float32)
    hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), states), tf.float32)
    return tf.reduce_sum(cross_entropy, [1, 2]), {
        "active_accuracy": tf.reduce_sum(hits * active) / tf.maximum(tf.reduce_sum(active), 1.)}

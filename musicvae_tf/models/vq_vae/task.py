"""The two training stages as TrainingTasks: the VQ-VAE (stage 1) and the code prior on the
frozen encoder's codes (stage 2)."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from musicvae_tf.training.task import TrainingTask


class VQTask(TrainingTask):
    """Summed token cross-entropy + commitment loss; each training step also moves the EMA
    codebook and restarts dead codes. Logs ``code_perplexity`` and ``code_usage`` (share of the
    codebook used in the batch) as MusicVAE logs its KL, and on the held-out diagnostic batch
    the same plus ``code_shuffle_gap`` (accuracy with own minus another window's codes)."""

    def __init__(self, config, model=None, diagnostic_batch=None):
        from data_pipelines.encodings import encoding_for
        from musicvae_tf.models.vq_vae.model import build_model

        self.config = config
        self.encoding = encoding_for(config.data)
        self.model = model if model is not None else build_model(config)
        self.diagnostic_batch = diagnostic_batch
        self._diagnostics = None

    def extra_checkpoint_objects(self) -> dict:
        """The codebook and its EMA statistics (non-trainable)."""
        from musicvae_tf.models.music_vae.task import model_state_objects

        return model_state_objects(self.model)

    def losses(self, batch, step, training: bool) -> dict:
        from musicvae_tf.models.music_vae.losses import predicted_tokens, sequence_cross_entropy
        from musicvae_tf.models.vq_vae.quantizer import code_usage

        inputs, tokens = batch
        targets, output_tokens, controls = self.encoding.decoder_inputs(tokens)
        model = self.model
        z_e = model.encode_bars(inputs, training=training)
        z_q, codes, commitment = model.quantize_bars(z_e)
        terms = {}
        if training:
            seed = tf.stack([tf.constant(self.config.training.seed, tf.int32),
                             tf.cast(step % (2**31 - 1), tf.int32)])
            terms["codes_restarted"] = tf.cast(model.quantizer.update(z_e, codes, seed), tf.float32)
        logits = model.decode_logits(z_q, targets, training=training, controls=controls)
        tokens = tf.cast(output_tokens, tf.int32)
        reconstruction = tf.reduce_mean(tf.reduce_sum(
            sequence_cross_entropy(logits, tokens, model.output_splits), axis=1))
        correct = tf.equal(predicted_tokens(logits, model.output_splits), tokens)
        terms.update(loss=reconstruction + commitment, reconstruction=reconstruction,
                     commitment=commitment,
                     accuracy=tf.reduce_mean(tf.cast(correct, tf.float32)),
                     **code_usage(codes, model.codebook_size))
        return terms

    def summary_metrics(self) -> dict:
        """Codebook use and the code-shuffle gap on the fixed held-out batch."""
        if callable(self.diagnostic_batch):
            self.diagnostic_batch = self.diagnostic_batch()
        if self.diagnostic_batch is None:
            return {}
        if self._diagnostics is None:
            self._diagnostics = tf.function(self._diagnostic_pass)
        values = self._diagnostics(*self.diagnostic_batch)
        return {f"held_out_{k}" if k.startswith("code_") else k: float(v) for k, v in values.items()}

    def _diagnostic_pass(self, inputs, tokens):
        from musicvae_tf.models.music_vae.losses import predicted_tokens
        from musicvae_tf.models.vq_vae.quantizer import code_usage

        targets, output_tokens, controls = self.encoding.decoder_inputs(tokens)
        z_q, codes, _ = self.model.quantize_bars(self.model.encode_bars(inputs))
        tokens = tf.cast(output_tokens, tf.int32)

        def accuracy(vectors):
            logits = self.model.decode_logits(vectors, targets, controls=controls)
            return tf.reduce_mean(tf.cast(
                tf.equal(predicted_tokens(logits, self.model.output_splits), tokens), tf.float32))

        own, other = accuracy(z_q), accuracy(tf.roll(z_q, -1, axis=0))
        return {**code_usage(codes, self.model.codebook_size), "accuracy_own_codes": own,
                "code_shuffle_gap": own - other}


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to 0 at ``total``."""

    def __init__(self, peak, warmup, total):
        self.peak, self.warmup, self.total = float(peak), int(warmup), max(int(total), 1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = step / max(self.warmup, 1)
        progress = tf.clip_by_value((step - self.warmup) / max(self.total - self.warmup, 1), 0., 1.)
        cosine = 0.5 * (1.0 + tf.cos(math.pi * progress))
        return self.peak * tf.where(step < self.warmup, warm, cosine)

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup, "total": self.total}


class PriorTask(TrainingTask):
    """Cross-entropy of the masked codes (``prior.training_masks``) on batches of codes
    ``[B, U, G]``; logs ``code_accuracy`` and ``code_bits_per_bar`` of the masked codes."""

    def __init__(self, config, model=None):
        from musicvae_tf.models.vq_vae.config import prior_settings, vq_settings
        from musicvae_tf.models.vq_vae.prior import build_prior

        self.config = config
        self.settings = prior_settings(config)
        self.num_groups = vq_settings(config).num_groups
        self.model = model if model is not None else build_prior(config)

    @property
    def learning_rate(self):
        return WarmupCosine(self.settings.learning_rate, self.settings.warmup_steps,
                            self.settings.num_steps)

    def losses(self, batch, step, training: bool) -> dict:
        from musicvae_tf.models.vq_vae.prior import training_masks

        codes = tf.reshape(tf.cast(batch, tf.int32), [tf.shape(batch)[0], -1])
        seed = tf.stack([tf.constant(self.config.training.seed + 17, tf.int32),
                         tf.cast(step % (2**31 - 1), tf.int32)])
        mask = training_masks(tf.shape(codes)[0], self.model.num_bars, self.num_groups,
                              self.settings, seed)
        inputs = tf.where(mask, self.model.mask_token, codes)
        logits = self.model(inputs, training=training)
        return masked_code_terms(logits, codes, mask, self.num_groups)


def masked_code_terms(logits, codes, mask, num_groups: int) -> dict:
    """``loss`` (mean nats per masked code), ``code_accuracy`` and ``code_bits_per_bar``."""
    weights = tf.cast(mask, tf.float32)
    count = tf.maximum(tf.reduce_sum(weights), 1.0)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=codes, logits=logits)
    loss = tf.reduce_sum(cross_entropy * weights) / count
    hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), codes), tf.float32)
    return {"loss": loss, "code_accuracy": tf.reduce_sum(hits * weights) / count,
            "code_bits_per_bar": loss * num_groups / math.log(2.0)}

"""SketchNet's two training stages as TrainingTasks on 16-bar token windows.

Both use the fixed split ``sketchnet.past`` / ``gap`` / rest and the loss of §B3: the mean token
cross-entropy of the true missing bars, teacher-forced through the frozen SketchVAE decoder
under the predicted latents. Stage 1 trains the inpainter only; stage 2 the connector only,
with simulated sketches (random unmasking of true latents)."""

from __future__ import annotations

import tensorflow as tf

from musicvae_tf.models.sketchnet.model import sketch_masks
from musicvae_tf.training.task import TrainingTask


def gap_terms(model, latents_fn, tokens, past: int, gap: int) -> dict:
    """``loss`` and ``accuracy`` over the gap tokens for ``latents_fn(bar_latents, bars)``."""
    steps = model.vae.steps_per_bar
    bars = tf.reshape(tf.cast(tokens, tf.int32), [tf.shape(tokens)[0], -1, steps])
    gap_bars = bars[:, past:past + gap]
    logits = tf.cast(model.decode_gap_logits(latents_fn(model.bar_latents(bars), bars), gap_bars),
                     tf.float32)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=gap_bars,
                                                                         logits=logits))
    correct = tf.equal(tf.argmax(logits, -1, output_type=tf.int32), gap_bars)
    return {"loss": loss, "accuracy": tf.reduce_mean(tf.cast(correct, tf.float32))}


class InpainterTask(TrainingTask):
    """Stage 1: the SketchInpainter's gap latents, decoded by the frozen SketchVAE."""

    def __init__(self, model, config):
        from musicvae_tf.models.sketchnet.config import sketchnet_settings

        self.model, self.config = model, config
        self.settings = sketchnet_settings(config)

    @property
    def trainable_variables(self) -> list:
        return self.model.inpainter.trainable_variables

    def losses(self, batch, step, training: bool) -> dict:
        past, gap = self.settings.past, self.settings.gap
        return gap_terms(self.model, lambda latents, _: self.model.stage1_latents(
            latents, past, gap, training=training), batch[1], past, gap)


class ConnectorTask(TrainingTask):
    """Stage 2: the SketchConnector over [past, inpainter's gap, future] with random unmasking:
    with probability ``unmask_batch_probability`` per batch, each gap bar's true z_pitch and
    z_rhythm are given (each with ``unmask_slot_probability``). Logs the share of given halves."""

    def __init__(self, model, config):
        from musicvae_tf.models.sketchnet.config import sketchnet_settings

        self.model, self.config = model, config
        self.settings = sketchnet_settings(config)

    @property
    def learning_rate(self):
        from musicvae_tf.models.vq_vae.task import WarmupCosine

        return WarmupCosine(self.settings.connector_learning_rate, self.settings.warmup_steps,
                            self.settings.connector_steps)

    @property
    def trainable_variables(self) -> list:
        return self.model.connector.trainable_variables

    def losses(self, batch, step, training: bool) -> dict:
        settings, model = self.settings, self.model
        past, gap = settings.past, settings.gap
        given = {}

        def latents_fn(latents, bars):
            batch_size = tf.shape(latents)[0]
            stage1 = tf.stop_gradient(model.stage1_latents(latents, past, gap))
            truth = latents[:, past:past + gap]
            if not training:
                return model.gap_latents(latents, past, gap, stage1=stage1)
            active = tf.random.uniform([]) < settings.unmask_batch_probability
            draws = tf.random.uniform([batch_size, gap, 2]) < settings.unmask_slot_probability
            draws = tf.logical_and(draws, active)
            mask = sketch_masks(batch_size, gap, model.vae.pitch_latent, model.vae.rhythm_latent,
                                draws[..., 0], draws[..., 1])
            given["given"] = tf.reduce_mean(tf.cast(draws, tf.float32))
            return model.gap_latents(latents, past, gap, sketch=truth, sketch_mask=mask,
                                     training=True, stage1=stage1)

        terms = gap_terms(model, latents_fn, batch[1], past, gap)
        return {**terms, **{f"sketch_{k}": v for k, v in given.items()}}

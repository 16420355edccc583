"""The latent RNN as a ``TrainingTask`` for the generic trainer, and its input pipeline.

Each batch holds windows as bar grids plus one split drawn for the whole batch (2..6 missing bars,
at least one context bar on each side; SPEC §7). The split is repeated per example so that a
strategy that splits the global batch across replicas hands every replica the same split. The
loss is the token cross-entropy of the true gap bars through the frozen measure decoder, averaged
over the real gap tokens (the paper's mean CE); slots beyond the gap length are masked out.
"""

from __future__ import annotations

import keras
from keras import ops

from musicvae_tf.config import Config
from musicvae_tf.models.inpainting.gap import gap_bars
from musicvae_tf.models.inpainting.config import LatentRNNSettings
from musicvae_tf.models.inpainting.measure_vae import windows_as_bars
from musicvae_tf.training.task import TrainingTask


def inpainting_dataset(windows, config: Config, seed: int):
    """Batched ``(one_hot, tokens)`` windows -> dicts of bar grids with a per-batch random split.

    Output: ``bars`` [B, U, S, C] float32, ``bar_tokens`` [B, U, S] int32 and ``split`` [B, 2] int32
    (gap start, gap length; equal rows). The i-th batch's split depends only on ``seed`` and i.
    """
    import tensorflow as tf

    split_range = LatentRNNSettings.from_config(config).split_range(config.data.num_bars)
    steps_per_bar = config.data.steps_per_bar

    def to_example(index, batch):
        one_hot, tokens = batch
        bars, bar_tokens = windows_as_bars(one_hot, tokens, steps_per_bar)
        split = split_range.sample_tensor(tf.stack([tf.constant(seed, tf.int64), index]))
        split = tf.tile(split[None, :], [tf.shape(bars)[0], 1])
        return {"bars": bars, "bar_tokens": bar_tokens, "split": split}

    return windows.enumerate().map(to_example, num_parallel_calls=tf.data.AUTOTUNE)


def masked_gap_cross_entropy(logits, targets, gap_mask):
    """Mean CE (nats per token) and argmax accuracy over the real gap tokens.

    ``logits`` [B, G, S, C], ``targets`` int [B, G, S], ``gap_mask`` bool [B, G].
    """
    cross_entropy = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    weights = ops.cast(ops.broadcast_to(gap_mask[:, :, None], ops.shape(cross_entropy)), "float32")
    count = ops.maximum(ops.sum(weights), 1.0)
    correct = ops.cast(ops.equal(ops.argmax(logits, axis=-1), ops.cast(targets, "int64")), "float32")
    return ops.sum(cross_entropy * weights) / count, ops.sum(correct * weights) / count


class LatentRNNTask(TrainingTask):
    """Trains the latent RNN of an :class:`InpaintingModel`; the measure VAE stays frozen."""

    def __init__(self, model, config: Config):
        self.model = model
        self.config = config

    def losses(self, batch, step, training: bool) -> dict:
        split = batch["split"][0]
        outputs = self.model(batch["bars"], gap_start=split[0], gap_length=split[1],
                             training=training)
        targets = gap_bars(batch["bar_tokens"], split[0], self.model.max_gap)
        loss, accuracy = masked_gap_cross_entropy(outputs["logits"], targets, outputs["gap_mask"])
        return {"loss": loss, "accuracy": accuracy,
                "gap_bars": ops.cast(split[1], "float32")}

    @property
    def trainable_variables(self) -> list:
        return self.model.latent_rnn.trainable_variables


"""Held-out evaluation of a MusicVAE (SPEC §6): reconstruction accuracy teacher-forced and fully
sampled, NLL, KL, ELBO, and the collapse diagnostics of ``musicvae_tf.models.music_vae.latent_diagnostics`` (active
latent units, KL per dimension, z-shuffle gap; the shuffle pairs examples within each batch).

Accuracies use z = posterior mean (mu). "Sampled" means the decoder feeds back its own outputs,
at temperature 1.0 (as the MusicVAE paper reports) and greedily (argmax). The reconstruction NLL
inside the ELBO uses one posterior sample per sequence (a single-sample Monte Carlo estimate of
E_q[log p(x|z)]); the NLL at z = mu is reported beside it.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import tensorflow as tf

from musicvae_tf.models.music_vae.latent_diagnostics import (ACTIVE_UNIT_THRESHOLD, shuffled_latents,
                                            summarize_latents)
from musicvae_tf.models.music_vae.losses import (kl_to_standard_normal, predicted_tokens,
                                                 sequence_cross_entropy)


class _Totals:
    """Running sums over the evaluated sequences."""

    def __init__(self, num_bars: int, output_splits):
        self.sequences = 0
        self.correct = {name: np.zeros(num_bars) for name in ("teacher_forced", "sampled",
                                                              "sampled_greedy")}
        self.steps_per_bar_total = np.zeros(num_bars)
        self.nll_sample = 0.0
        self.nll_mean = 0.0
        self.kl_nats = 0.0
        self.token_counts = [np.zeros(size) for size in output_splits]
        self.means: list[np.ndarray] = []
        self.scales: list[np.ndarray] = []
        self.own_hits: list[np.ndarray] = []
        self.shuffled_hits: list[np.ndarray] = []


def evaluate_model(model, batches: Iterable, *, num_bars: int, temperature: float = 1.0,
                   seed: int = 0, progress=None, encoding=None) -> dict:
    """Evaluate ``model`` on ``(encoder_inputs, tokens)`` batches and return a JSON-ready dict.

    ``encoding`` (``data_pipelines.encodings``) says what the decoder reads and predicts
    (``Encoding.decoder_inputs``); without one the encoder inputs are the decoder's one-hot
    targets, as for a melody. Accuracies count every step of every output split.
    ``progress`` is an optional callable ``(num_sequences_done) -> None``.
    """
    totals = _Totals(num_bars, model.output_splits)

    @tf.function(reduce_retracing=True)
    def teacher_forced(inputs, tokens, batch_seed):
        targets, tokens, controls = ((inputs, tokens, None) if encoding is None
                                     else encoding.decoder_inputs(tokens))
        return (*_teacher_forced_pass(model, inputs, targets, tokens, controls, batch_seed),
                tokens, controls)

    for index, (inputs, tokens) in enumerate(batches):
        (mu, sigma, tf_predictions, shuffled_predictions, nll_mean, nll_sample, kl, tokens,
         controls) = teacher_forced(inputs, tf.cast(tokens, tf.int32),
                                    tf.constant([seed, index], tf.int32))
        sampled = model.sample_tokens(mu, temperature=temperature, seed=(seed + 1, index),
                                      controls=controls)
        greedy = model.sample_tokens(mu, temperature=0.0, seed=(seed + 2, index),
                                     controls=controls)
        target = tokens.numpy()
        for name, predicted in (("teacher_forced", tf_predictions), ("sampled", sampled),
                                ("sampled_greedy", greedy)):
            totals.correct[name] += _per_bar_correct(np.asarray(predicted), target, num_bars)
        totals.steps_per_bar_total += target.size / num_bars
        totals.sequences += target.shape[0]
        totals.nll_mean += float(tf.reduce_sum(nll_mean))
        totals.nll_sample += float(tf.reduce_sum(nll_sample))
        totals.kl_nats += float(tf.reduce_sum(kl))
        columns = target.reshape(target.shape[0], target.shape[1], -1)
        for split, counts in enumerate(totals.token_counts):
            counts += np.bincount(columns[..., split].ravel(), minlength=len(counts))
        totals.means.append(mu.numpy())
        totals.scales.append(sigma.numpy())
        totals.own_hits.append(np.asarray(tf_predictions) == target)
        totals.shuffled_hits.append(np.asarray(shuffled_predictions) == target)
        if progress is not None:
            progress(totals.sequences)
    if totals.sequences == 0:
        return {"num_sequences": 0}
    return _summary(totals, num_bars, temperature, seed)


def _teacher_forced_pass(model, inputs, targets, tokens, controls, seed):
    mu, sigma = model.encode(inputs, training=False)
    mu, sigma = tf.cast(mu, tf.float32), tf.cast(sigma, tf.float32)

    def decode(z):
        return tf.cast(model.decode_logits(z, targets, training=False, controls=controls),
                       tf.float32)

    logits_mean = decode(mu)
    z_sample = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed)
    logits_sample = decode(z_sample)
    logits_shuffled = decode(shuffled_latents(mu))

    def sequence_nll(logits):
        return tf.reduce_sum(sequence_cross_entropy(logits, tokens, model.output_splits), axis=-1)

    predictions = predicted_tokens(logits_mean, model.output_splits)
    shuffled = predicted_tokens(logits_shuffled, model.output_splits)
    return (mu, sigma, predictions, shuffled, sequence_nll(logits_mean),
            sequence_nll(logits_sample), kl_to_standard_normal(mu, sigma))


def _per_bar_correct(predicted: np.ndarray, target: np.ndarray, num_bars: int) -> np.ndarray:
    hits = (predicted == target).reshape(target.shape[0], num_bars, -1)
    return hits.sum(axis=(0, 2)).astype(np.float64)


def _summary(totals: _Totals, num_bars: int, temperature: float, seed: int) -> dict:
    n = totals.sequences
    accuracy = {name: float(hits.sum() / totals.steps_per_bar_total.sum())
                for name, hits in totals.correct.items()}
    per_bar = {name: [float(v) for v in hits / totals.steps_per_bar_total]
               for name, hits in totals.correct.items()}
    means = np.concatenate(totals.means)
    latents = summarize_latents(means, np.concatenate(totals.scales),
                                np.concatenate(totals.own_hits),
                                np.concatenate(totals.shuffled_hits))
    recon = totals.nll_sample / n
    kl_nats = totals.kl_nats / n
    result = {
        "num_sequences": n,
        "z": {
            "accuracy": "posterior mean (mu)",
            "reconstruction_nll": f"one posterior sample per sequence (stateless seed {seed})",
            "reconstruction_nll_at_mean": "posterior mean (mu)",
        },
        "sampling_temperature": temperature,
        "teacher_forced_accuracy": accuracy["teacher_forced"],
        "sampled_accuracy": accuracy["sampled"],
        "sampled_accuracy_greedy": accuracy["sampled_greedy"],
        "majority_token_accuracy": float(sum(c.max() for c in totals.token_counts)
                                         / sum(c.sum() for c in totals.token_counts)),
        "reconstruction_nll": recon,
        "reconstruction_nll_at_mean": totals.nll_mean / n,
        "kl_nats": kl_nats,
        "kl_bits": kl_nats / math.log(2.0),
        "elbo": -(recon + kl_nats),
        "units": "nats per sequence for reconstruction_nll, kl_nats and elbo",
        "active_units": latents["active_units"],
        "latent_dim": int(means.shape[1]),
        "active_unit_threshold": ACTIVE_UNIT_THRESHOLD,
        "z_shuffle_gap": latents["z_shuffle_gap"],
        "teacher_forced_accuracy_shuffled_z": latents["accuracy_shuffled_z"],
        "kl_bits_per_dim": latents["kl_bits_per_dim"],
    }
    if num_bars > 1:
        result["per_bar_accuracy"] = per_bar
    return result


def evaluate_interpolation(model, batches: Iterable, *, pairs: int = 64, num_steps: int = 5,
                           encoding=None) -> dict:
    """How an interpolation between two held-out sequences starts, moves and ends: the first
    ``2 * pairs`` sequences of ``batches`` are paired (i with pairs + i), each pair's posterior
    means are joined by a ``num_steps`` slerp path (as ``musicvae-tf interpolate``), every point
    is decoded greedily, and each step's token accuracy against input A and input B is averaged
    over the pairs. ``{}`` with fewer than two sequences or for a model with controls."""
    from musicvae_tf.interpolation import slerp

    inputs, targets = [], []
    for batch_inputs, tokens in batches:
        inputs.append(np.asarray(batch_inputs))
        targets.append(np.asarray(tokens))
        if sum(len(t) for t in targets) >= 2 * pairs:
            break
    if not targets or model.control_depth or len(model.output_splits) > 1:
        return {}
    inputs, targets = np.concatenate(inputs), np.concatenate(targets)
    pairs = min(pairs, len(targets) // 2)
    if pairs == 0:
        return {}
    if encoding is not None:
        targets = np.asarray(encoding.decoder_inputs(tf.convert_to_tensor(targets))[1])
    mu = np.concatenate([model.encode(inputs[i:i + 256])[0].numpy()
                         for i in range(0, 2 * pairs, 256)])
    paths = np.stack([slerp(mu[i], mu[pairs + i], num_steps) for i in range(pairs)])
    decoded = model.sample_tokens(paths.reshape(pairs * num_steps, -1), temperature=0.0,
                                  seed=0).numpy().reshape(pairs, num_steps, -1)
    to_a = (decoded == targets[:pairs, None]).mean(axis=(0, 2))
    to_b = (decoded == targets[pairs:2 * pairs, None]).mean(axis=(0, 2))
    return {"pairs": int(pairs), "steps": int(num_steps), "decoding": "greedy",
            "accuracy_to_a": [float(v) for v in to_a], "accuracy_to_b": [float(v) for v in to_b]}

"""Held-out evaluation of a VQ-VAE: reconstruction through the codes, codebook use, and with a
trained prior the code NLL of missing bars and 6 / 4 / 6 inpainting against repeat-last-bar."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from data_pipelines.encodings import encoding_for
from musicvae_tf.models.music_vae.losses import predicted_tokens, sequence_cross_entropy


def evaluate_vq(model, config, data_dir, split: str, batch_size: int = 256,
                temperature: float = 1.0, seed: int = 0, prior=None) -> dict:
    """Metrics of ``model`` (and ``prior``, when given) on a prepared split, JSON-ready."""
    from data_pipelines.reader import make_dataset
    from musicvae_tf.models.inpainting.baselines import repeat_last_bar_tokens
    from musicvae_tf.models.inpainting.gap import PROTOCOL_A
    from musicvae_tf.models.inpainting.metrics import GapMetrics
    from musicvae_tf.models.vq_vae.inpaint import VQInpainter
    from musicvae_tf.models.vq_vae.task import masked_code_terms

    encoding = encoding_for(config.data)
    sums = {"tf": 0.0, "greedy": 0.0, "sampled": 0.0, "nll": 0.0, "steps": 0, "rows": 0,
            "code_nll": 0.0, "code_hits": 0.0, "codes": 0}
    all_codes, windows = [], []
    for index, (inputs, tokens) in enumerate(make_dataset(str(data_dir), split, config.data,
                                                          batch_size, training=False)):
        targets, output_tokens, controls = encoding.decoder_inputs(tokens)
        z_q, codes, _ = model.quantize_bars(model.encode_bars(inputs))
        logits = model.decode_logits(z_q, targets, controls=controls)
        truth = tf.cast(output_tokens, tf.int32)
        steps = int(tf.size(truth))
        sums["steps"] += steps
        sums["rows"] += int(truth.shape[0])
        sums["tf"] += _hits(predicted_tokens(logits, model.output_splits), truth)
        sums["nll"] += float(tf.reduce_sum(sequence_cross_entropy(logits, truth,
                                                                  model.output_splits)))
        flat = tf.reshape(z_q, [tf.shape(z_q)[0], -1])
        for key, t in (("greedy", 0.0), ("sampled", temperature)):
            sampled = model.sample_tokens(flat, temperature=t, seed=seed + index, controls=controls)
            sums[key] += _hits(sampled, truth)
        all_codes.append(np.asarray(codes))
        windows.append(np.asarray(tokens))
    if not sums["rows"]:
        from data_pipelines.errors import MusicVAEError

        raise MusicVAEError(f"the {split} split of {data_dir} holds no windows")
    codes = np.concatenate(all_codes)
    result = {"num_sequences": sums["rows"],
              "teacher_forced_accuracy": sums["tf"] / sums["steps"],
              "sampled_accuracy_greedy": sums["greedy"] / sums["steps"],
              "sampled_accuracy": sums["sampled"] / sums["steps"],
              "sampling_temperature": temperature,
              "reconstruction_nll": sums["nll"] / sums["rows"],
              "units": "reconstruction_nll in nats per sequence",
              **codebook_usage(codes, model.codebook_size)}
    if prior is None or model.output_splits != [config.data.num_classes]:
        return result
    windows = np.concatenate(windows)
    inpainter = VQInpainter(model, config, prior)
    split_a = PROTOCOL_A if config.data.num_bars == PROTOCOL_A.num_bars else None
    if split_a is None:
        return result
    groups = codes.shape[-1]
    vq_metric, repeat_metric = GapMetrics(), GapMetrics()
    steps = config.data.steps_per_bar
    gap = slice(split_a.gap_start * steps, split_a.gap_end * steps)
    for start in range(0, len(windows), batch_size):
        batch = windows[start:start + batch_size]
        inpainter.score(batch, split_a, vq_metric, seed)
        bars = batch.reshape(len(batch), config.data.num_bars, steps)
        repeat_metric.add(batch[:, gap], repeat_last_bar_tokens(bars, split_a))
        chunk = codes[start:start + batch_size].reshape(len(batch), -1)
        mask = np.zeros_like(chunk, bool)
        mask[:, split_a.gap_start * groups:split_a.gap_end * groups] = True
        inputs = np.where(mask, prior.mask_token, chunk)
        terms = masked_code_terms(prior(tf.constant(inputs)), tf.constant(chunk),
                                  tf.constant(mask), groups)
        count = int(mask.sum())
        sums["code_nll"] += float(terms["loss"]) * count
        sums["code_hits"] += float(terms["code_accuracy"]) * count
        sums["codes"] += count
    nats = sums["code_nll"] / sums["codes"]
    result["inpainting_6_4_6"] = {
        "code_bits_per_bar": nats * groups / math.log(2.0),
        "code_accuracy": sums["code_hits"] / sums["codes"],
        "vq_masked_prior": vq_metric.result(), "repeat_last_bar": repeat_metric.result()}
    return result


def codebook_usage(codes: np.ndarray, codebook_size: int) -> dict:
    """Perplexity and share of codes used over codes ``[N, U, G]``, overall and per group."""
    def usage(values):
        counts = np.bincount(values.reshape(-1), minlength=codebook_size)
        p = counts / max(counts.sum(), 1)
        entropy = -float(np.sum(p[p > 0] * np.log(p[p > 0])))
        return math.exp(entropy), int((counts > 0).sum())

    perplexity, used = usage(codes)
    per_group = [usage(codes[..., g]) for g in range(codes.shape[-1])]
    return {"codebook_size": codebook_size, "code_perplexity": perplexity, "codes_used": used,
            "code_usage": used / codebook_size,
            "code_perplexity_per_group": [round(p, 2) for p, _ in per_group],
            "codes_used_per_group": [u for _, u in per_group],
            "distinct_bar_codes": int(len({tuple(row) for row in codes.reshape(-1, codes.shape[-1])}))}


def _hits(predicted, truth) -> float:
    return float(tf.reduce_sum(tf.cast(tf.equal(tf.cast(predicted, tf.int32), truth), tf.float32)))


def print_table(result: dict) -> None:
    """The main numbers as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['config']} on {result['split']} ({result['num_sequences']} "
                        "sequences, z = the nearest codes)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [("teacher-forced accuracy", f"{result['teacher_forced_accuracy']:.3f}"),
            (f"sampled accuracy (T={result['sampling_temperature']:g})",
             f"{result['sampled_accuracy']:.3f}"),
            ("sampled accuracy (greedy)", f"{result['sampled_accuracy_greedy']:.3f}"),
            ("reconstruction NLL (nats/seq)", f"{result['reconstruction_nll']:.2f}"),
            ("code perplexity", f"{result['code_perplexity']:.1f}"),
            ("codes used", f"{result['codes_used']} / {result['codebook_size']}")]
    inpainting = result.get("inpainting_6_4_6")
    if inpainting:
        rows += [("6/4/6 code bits per missing bar", f"{inpainting['code_bits_per_bar']:.2f}"),
                 ("6/4/6 code accuracy", f"{inpainting['code_accuracy']:.3f}"),
                 ("6/4/6 inpainting accuracy (masked prior)",
                  f"{inpainting['vq_masked_prior']['accuracy']:.3f}"),
                 ("6/4/6 inpainting accuracy (repeat last bar)",
                  f"{inpainting['repeat_last_bar']['accuracy']:.3f}")]
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)

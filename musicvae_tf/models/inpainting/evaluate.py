"""Held-out evaluation of inpainting (issue 5): the latent RNN against three baselines.

Windows come from the held-out split of a prepared data dir; the split is by piece, and the report
checks that no held-out piece id is also a training piece (InpaintNet's split leaked, SPEC §7).

Protocols: ``A`` is the fixed 6 past / 4 missing / 6 future split; ``B`` draws random splits from
the training range, one per group of 8 windows (seeded, so reruns match). Every method is scored
on the same windows and splits
with the metrics of ``metrics.py`` over the missing bars only:

- ``latent_rnn``: the trained model;
- ``interpolation``: linear interpolation of measure-VAE latents (the paper's baseline);
- ``repeat_last_bar``: copies of the bar before the gap (NLL via that bar's latent);
- ``hierarchical_search`` (when a 16-bar MusicVAE run is given): latent search, ``latent_search``;
- ``vq_masked_prior`` (when a VQ-VAE run is given): its code prior fills the gap's codes;
- ``sketchnet*`` (when a SketchNet run is given, protocol A only): ``sketchnet.evaluate``.

Generated tokens are greedy (temperature 0); NLL and teacher-forced accuracy use the true
previous tokens, as in training.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.models.inpainting.baselines import (interpolation_latents, repeat_last_bar_latents,
                                              repeat_last_bar_tokens)
from musicvae_tf.models.inpainting.gap import PROTOCOL_A, GapSplit
from musicvae_tf.models.inpainting.config import LatentRNNSettings
from musicvae_tf.models.inpainting.metrics import GapMetrics

PROTOCOLS = ("A", "B")
# Protocol B draws one split per this many windows (training draws one per batch; smaller groups
# give a held-out set of a few hundred windows many different splits).
RANDOM_SPLIT_GROUP = 8
METRIC_COLUMNS = ("nll", "accuracy", "accuracy_teacher_forced", "pitch_accuracy", "rhythm_accuracy",
                  "hold_rest_accuracy")


def evaluate_run(inpainter, data_dir, split: str, out: Path, protocols=PROTOCOLS, searcher=None, *,
                 max_windows: int | None = None, batch_size: int = 64, search_steps: int = 100,
                 seed: int = 0, progress: bool = False, model_name: str = "",
                 searcher_name: str | None = None, vq=None, vq_name: str | None = None,
                 sketchnet=None, sketchnet_name: str | None = None) -> int:
    """Evaluate ``inpainter`` on the held-out ``split`` of ``data_dir`` (after the split-leak
    check), write the JSON report to ``out`` and its Markdown table beside it, print the table."""
    from data_pipelines.io_utils import atomic_write_bytes, write_json

    leak = split_leak_check(data_dir, split)
    if leak.get("shared_pieces"):
        raise MusicVAEError(f"{leak['shared_pieces']} {split} pieces are also training pieces")
    windows = read_windows(data_dir, split, inpainter.config.data, max_windows)
    results = evaluate_windows(inpainter, windows, protocols, searcher, batch_size, search_steps,
                               seed, progress=progress, vq=vq, sketchnet=sketchnet)
    report = {"model": model_name, "hierarchical": searcher_name, "vq": vq_name,
              "sketchnet": sketchnet_name,
              "data": str(data_dir),
              "split": split, "windows": int(len(windows)), "split_check": leak,
              "search_steps": search_steps if searcher else None, "protocols": results}
    write_json(out, report)
    table = results_table(results)
    atomic_write_bytes(out.with_suffix(".md"), (table + "\n").encode())
    print(f"{len(windows)} held-out windows from {data_dir} ({split})")
    print(table)
    print(f"results: {out}  table: {out.with_suffix('.md')}")
    return 0


def evaluate_windows(inpainter, windows: np.ndarray, protocols=PROTOCOLS, hierarchical=None,
                     batch_size: int = 64, search_steps: int = 100, seed: int = 0,
                     progress: bool = False, vq=None, sketchnet=None) -> dict:
    """Metrics per protocol and method on token windows ``[N, U*S]``.

    ``inpainter`` is a ``LatentRNNInpainter``; ``hierarchical`` an optional whole-window MusicVAE
    (``LatentSearchInpainter``) with the same window length; ``vq`` an optional ``VQInpainter``;
    ``sketchnet`` an optional ``SketchNetInpainter`` (scored on protocol A).
    """
    config = inpainter.config
    data = config.data
    windows = np.asarray(windows, np.int32)
    if windows.ndim != 2 or windows.shape[1] != data.num_steps:
        raise MusicVAEError(f"expected windows of {data.num_steps} steps, got shape {windows.shape}")
    if hierarchical is not None and hierarchical.config.data.num_steps != data.num_steps:
        raise MusicVAEError(f"the MusicVAE models {hierarchical.config.data.num_bars}-bar windows, "
                            f"the inpainting data has {data.num_bars}")
    unknown = sorted(set(protocols) - set(PROTOCOLS))
    if unknown:
        raise UsageError(f"unknown protocol(s) {', '.join(unknown)}; choose from A, B")
    split_range = LatentRNNSettings.from_config(config).split_range(data.num_bars)
    rng = np.random.default_rng(seed)
    results = {}
    for protocol in protocols:
        if protocol == "A" and PROTOCOL_A.num_bars != data.num_bars:
            raise MusicVAEError(f"protocol A needs {PROTOCOL_A.num_bars}-bar windows, got {data.num_bars}")
        methods = ["latent_rnn", "interpolation", "repeat_last_bar"]
        methods += ["hierarchical_search"] if hierarchical is not None else []
        methods += ["vq_masked_prior"] if vq is not None else []
        if sketchnet is not None and protocol == "A":
            from musicvae_tf.models.sketchnet.evaluate import METHODS as SKETCHNET_METHODS
            from musicvae_tf.models.sketchnet.evaluate import score_sketchnet

            methods += list(SKETCHNET_METHODS)
        metrics = {name: GapMetrics() for name in methods}
        splits = []
        group = batch_size if protocol == "A" else min(batch_size, RANDOM_SPLIT_GROUP)
        starts = range(0, len(windows), group)
        for start in _progress(starts, progress, f"protocol {protocol}"):
            split = PROTOCOL_A if protocol == "A" else split_range.sample(rng)
            splits.append(split)
            batch = windows[start:start + group]
            bar_tokens = batch.reshape(len(batch), data.num_bars, data.steps_per_bar)
            _score_latent_methods(inpainter.model, bar_tokens, split, metrics, data.num_classes, seed)
            if hierarchical is not None:
                _score_search(hierarchical, batch, split, metrics["hierarchical_search"], search_steps, seed)
            if vq is not None:
                vq.score(batch, split, metrics["vq_masked_prior"], seed)
            if sketchnet is not None and protocol == "A":
                score_sketchnet(sketchnet, batch, split, metrics)
        results[protocol] = {
            "split": "6 past / 4 missing / 6 future" if protocol == "A" else
                     f"random per {RANDOM_SPLIT_GROUP} windows: {split_range.min_gap}.."
                     f"{split_range.max_gap} missing, >= {split_range.min_context} context bar each side",
            "gap_bars_drawn": _count_gaps(splits),
            "methods": {name: metric.result() for name, metric in metrics.items()},
        }
    return results


def _score_latent_methods(model, bar_tokens: np.ndarray, split: GapSplit, metrics: dict,
                          num_classes: int, seed: int) -> None:
    import tensorflow as tf

    one_hot = tf.one_hot(bar_tokens, num_classes)
    bar_latents = model.encode_bars(one_hot)
    targets = bar_tokens[:, split.gap_start:split.gap_end]
    target_one_hot = one_hot[:, split.gap_start:split.gap_end]

    def score(name, latents, generated=None):
        latents = tf.convert_to_tensor(latents, tf.float32)
        logits = model.decode_gap_logits(latents, target_one_hot)
        if generated is None:
            generated = model.sample_gap_tokens(latents, temperature=0.0, seed=seed)
        metrics[name].add(targets, np.asarray(generated), np.asarray(logits))

    rnn_latents, _ = model.gap_latents(bar_latents, split.gap_start, split.gap)
    score("latent_rnn", rnn_latents[:, :split.gap])
    latents = np.asarray(bar_latents)
    score("interpolation", interpolation_latents(latents, split))
    score("repeat_last_bar", repeat_last_bar_latents(latents, split),
          repeat_last_bar_tokens(bar_tokens, split))


def _score_search(searcher, windows: np.ndarray, split: GapSplit, metric: GapMetrics,
                  search_steps: int, seed: int) -> None:
    import tensorflow as tf

    from musicvae_tf.models.inpainting.latent_search import mask_gap, search_latents

    data = searcher.config.data
    steps_per_bar = data.steps_per_bar
    known = np.ones(data.num_bars, bool)
    known[split.gap_start:split.gap_end] = False
    masked = mask_gap(windows, split.gap_start, split.gap, steps_per_bar)
    z = search_latents(searcher.model, masked, np.repeat(known, steps_per_bar), data.num_classes,
                       steps=search_steps)
    gap = slice(split.gap_start * steps_per_bar, split.gap_end * steps_per_bar)
    logits = searcher.model.decode_logits(z, tf.one_hot(windows, data.num_classes))[:, gap]
    generated = np.asarray(searcher.model.sample_tokens(z, temperature=0.0, seed=seed))[:, gap]
    metric.add(windows[:, gap], generated, np.asarray(logits))


def _count_gaps(splits: list[GapSplit]) -> dict:
    counts: dict[str, int] = {}
    for split in splits:
        counts[str(split.gap)] = counts.get(str(split.gap), 0) + 1
    return dict(sorted(counts.items()))


def _progress(items, enabled: bool, description: str):
    if not enabled:
        return items
    from rich.progress import track

    return track(items, description=description)


def read_windows(data_dir: str | Path, split: str, data_config, max_windows: int | None = None) -> np.ndarray:
    """All token windows ``[N, T]`` of one split of a prepared data dir, in file order."""
    from data_pipelines.reader import make_dataset
    from data_pipelines.data_dir import check_prepared_data

    check_prepared_data(data_dir, data_config, split)
    chunks, count = [], 0
    for _, tokens in make_dataset(str(data_dir), split, data_config, 256, training=False):
        chunks.append(tokens.numpy())
        count += len(chunks[-1])
        if max_windows is not None and count >= max_windows:
            break
    if not chunks:
        raise MusicVAEError(f"{data_dir} has no {split} windows")
    return np.concatenate(chunks)[:max_windows]


def split_leak_check(data_dir: str | Path, split: str) -> dict:
    """Counts of ``split`` and train pieces in ``pieces.json`` and how many ids they share."""
    path = Path(data_dir) / "pieces.json"
    if not path.is_file():
        return {"checked": False}
    pieces = json.loads(path.read_text())
    held_out, train = set(pieces.get(split, [])), set(pieces.get("train", []))
    return {"checked": True, f"{split}_pieces": len(held_out), "train_pieces": len(train),
            "shared_pieces": len(held_out & train)}


def results_table(results: dict) -> str:
    """A short Markdown table: one row per protocol and method."""
    lines = ["| protocol | method | NLL (nats/token) | accuracy | teacher-forced acc. | pitch acc. "
             "| rhythm class acc. | hold/rest acc. |",
             "|---|---|---|---|---|---|---|---|"]
    for protocol, section in results.items():
        for name, values in section["methods"].items():
            cells = ["-" if values[c] is None else f"{values[c]:.3f}" for c in METRIC_COLUMNS]
            lines.append(f"| {protocol} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

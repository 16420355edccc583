"""Inpainting API: fill bars of a piece so that they connect what comes before and after.

``load_inpainter(run)`` accepts a latent-RNN run (``musicvae-tf train-inpainting``) or a
whole-window MusicVAE run such as hierdec-mel_16bar (used through latent search). Then
``inpaint_piece(inpainter, piece, gap_start, gap_length, ...)`` returns complete pieces in which
only the gap bars differ from the input; ``write_inpainted`` saves them as MIDI + piano-roll PNG
(+ WAV when fluidsynth is installed). A latent RNN fills at most the ``latent_rnn.max_gap`` bars it
was trained for: longer gaps are refused by :func:`check_gap` before any work (chaining windows
would fill them with bars the model never learnt to connect).

Pieces longer than the model's window are cut to a window around the gap (6 past bars where
possible, the rest after the gap); the output is always the whole original piece.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musicvae_tf.config import Config
from data_pipelines.errors import MusicVAEError, UsageError
from musicvae_tf.models.inpainting.gap import GapSplit
from musicvae_tf.models.inpainting.piece import PieceMelody, window_around_gap


class Inpainter:
    """A loaded model that fills gaps and its config; subclasses implement ``gap_tokens``."""

    def __init__(self, model, config: Config):
        self.model = model
        self.config = config

    @property
    def window_bars(self) -> int:
        """Bars of the window the model sees at once (its training windows)."""
        return self.config.data.num_bars

    def gap_tokens(self, window_bars: np.ndarray, split: GapSplit, num_outputs: int = 1,
                   temperature: float = 0.5, seed: int | None = None) -> np.ndarray:
        """Tokens ``[num_outputs, split.gap, S]`` for the gap of one window ``[U, S]``."""
        raise NotImplementedError


class LatentRNNInpainter(Inpainter):
    """A trained :class:`InpaintingModel` (frozen measure VAE + latent RNN) and its config."""

    def gap_tokens(self, window_bars: np.ndarray, split: GapSplit, num_outputs: int = 1,
                   temperature: float = 0.5, seed: int | None = None) -> np.ndarray:
        """Tokens ``[num_outputs, split.gap, S]`` for the gap of one window ``[U, S]``.

        The gap latents are deterministic given the context; outputs differ through the measure
        decoder's sampling (identical at temperature 0).
        """
        import tensorflow as tf

        one_hot = tf.one_hot(np.asarray(window_bars)[None], self.config.data.num_classes)
        latents, _ = self.model.gap_latents(self.model.encode_bars(one_hot), split.gap_start, split.gap)
        latents = tf.repeat(latents[:, :split.gap], num_outputs, axis=0)
        return np.asarray(self.model.sample_gap_tokens(latents, temperature=temperature, seed=seed))


class LatentSearchInpainter(Inpainter):
    """A whole-window MusicVAE used for inpainting by searching z (see ``latent_search``)."""

    def __init__(self, model, config: Config, search_steps: int = 100):
        super().__init__(model, config)
        self.search_steps = search_steps

    def gap_tokens(self, window_bars: np.ndarray, split: GapSplit, num_outputs: int = 1,
                   temperature: float = 0.5, seed: int | None = None) -> np.ndarray:
        """Tokens ``[num_outputs, split.gap, S]``; a window shorter than the model is padded with
        silence that does not count as known."""
        from musicvae_tf.models.inpainting.latent_search import mask_gap, search_latents

        data = self.config.data
        steps_per_bar = data.steps_per_bar
        window = np.zeros((self.window_bars, steps_per_bar), np.int32)
        window[:len(window_bars)] = window_bars
        known = np.zeros(self.window_bars, bool)
        known[:len(window_bars)] = True
        known[split.gap_start:split.gap_end] = False
        masked = mask_gap(window.reshape(1, -1), split.gap_start, split.gap, steps_per_bar)
        z = search_latents(self.model, masked, np.repeat(known, steps_per_bar), data.num_classes,
                           steps=self.search_steps)
        z = np.repeat(np.asarray(z), num_outputs, axis=0)
        tokens = np.asarray(self.model.sample_tokens(z, temperature=temperature, seed=seed))
        bars = tokens.reshape(num_outputs, self.window_bars, steps_per_bar)
        return bars[:, split.gap_start:split.gap_end]


def inpainter_config(run: str | Path) -> tuple[Path, Config]:
    """The run dir (a shipped model's name is resolved) and its config, without loading the model;
    raises MusicVAEError for a folder that is not a finished run or cannot inpaint."""
    from musicvae_tf.pretrained import resolve_model
    from musicvae_tf.training.run_files import MODEL_FILE, read_run_config

    run = resolve_model(run)
    if not run.is_dir():
        raise MusicVAEError(f"--model expects a run directory, got {run}")
    config = read_run_config(run)
    if config is None or not (run / MODEL_FILE).is_file():
        raise MusicVAEError(f"{run} is not a finished training run (needs config.yaml and {MODEL_FILE})")
    if config.family != "inpainting" and config.data.num_bars < 3:
        raise MusicVAEError(f"{run} models {config.data.num_bars}-bar windows: too short to inpaint "
                            "(use a latent-RNN run or a 16-bar MusicVAE)")
    return run, config


def check_gap(config: Config, gap_length: int) -> None:
    """Refuse a gap longer than a latent-RNN model was trained to fill (UsageError)."""
    if config.family != "inpainting":
        return
    from musicvae_tf.models.inpainting.config import LatentRNNSettings

    trained = LatentRNNSettings.from_config(config)
    if gap_length > trained.max_gap:
        raise UsageError(f"a gap of {gap_length} bars is longer than this model fills: it was "
                         f"trained on gaps of {trained.min_gap}-{trained.max_gap} bars; choose at "
                         f"most {trained.max_gap} bars")


def load_inpainter(run: str | Path, search_steps: int = 100):
    """A latent-RNN inpainter for an inpainting run dir, a code-prior one for a VQ-VAE run, or a
    latent-search one for a MusicVAE run (either may be a shipped model's name)."""
    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.models.registry import family_hooks
    from musicvae_tf.training.run_files import MODEL_FILE

    run, config = inpainter_config(run)
    if config.family == "vq_vae":
        from musicvae_tf.models.vq_vae.inpaint import load_vq_inpainter

        return load_vq_inpainter(run, config)
    if config.family == "sketchnet":
        from musicvae_tf.models.sketchnet.inpaint import load_sketchnet

        return load_sketchnet(run)
    model_path = run / MODEL_FILE
    model = load_keras_file(model_path)
    family_hooks(config.family).check_model(model, config, model_path)
    if config.family == "inpainting":
        return LatentRNNInpainter(model, config)
    return LatentSearchInpainter(model, config, search_steps)


def inpaint_piece(inpainter, piece: PieceMelody, gap_start: int, gap_length: int,
                  num_outputs: int = 1, temperature: float = 0.5,
                  seed: int | None = None) -> np.ndarray:
    """Complete pieces ``[num_outputs, len(piece.tokens)]``: the input with only the gap bars replaced."""
    if num_outputs < 1:
        raise UsageError(f"--num-outputs must be >= 1, got {num_outputs}")
    if not np.isfinite(temperature) or temperature < 0:
        raise UsageError(f"--temperature must be >= 0, got {temperature}")
    check_gap(inpainter.config, gap_length)
    window_start, split = window_around_gap(piece.num_bars, gap_start, gap_length,
                                            inpainter.window_bars)
    bars = piece.bars()
    window = bars[window_start:window_start + split.num_bars]
    filled = inpainter.gap_tokens(window, split, num_outputs, temperature, seed)
    outputs = np.repeat(bars[None], num_outputs, axis=0)
    outputs[:, gap_start:gap_start + gap_length] = filled
    return outputs.reshape(num_outputs, -1)


def write_inpainted(pieces: np.ndarray, gap_start: int, gap_length: int, out_dir: str | Path,
                    data_config, qpm: float = 120.0, stem: str = "inpainted",
                    wav: bool = True) -> list[Path]:
    """Write ``stem_KK.mid`` and ``stem_KK.png`` (gap bars shaded), and ``stem_KK.wav`` when ``wav``
    and fluidsynth is installed, per piece; K counts from 1, zero-padded so names sort in order.
    Returns the MIDI paths."""
    from musicvae_tf.generation_output import OutputWriter

    writer = OutputWriter(Path(out_dir), data_config, wav=wav, qpm=qpm)
    highlight = list(range(gap_start, gap_start + gap_length))
    width = max(2, len(str(len(pieces))))
    bars = f"bars {gap_start + 1}-{gap_start + gap_length}"
    return [writer.write_melody(tokens, f"{stem}_{index:0{width}d}",
                                title=f"{stem} {index}: {bars} inpainted", highlight_bars=highlight)
            for index, tokens in enumerate(pieces, start=1)]

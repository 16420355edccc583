"""Inpainting with codes: the masked prior fills the codes of the missing bars from the bars on
both sides, and the VQ-VAE decodes the window from the completed codes."""

from __future__ import annotations

import numpy as np

from musicvae_tf.models.inpainting.inpaint import Inpainter


class VQInpainter(Inpainter):
    """A VQ-VAE (``model``) and its code prior; used by ``inpaint`` and ``evaluate-inpainting``."""

    def __init__(self, model, config, prior):
        super().__init__(model, config)
        self.prior = prior

    def fill(self, windows, gap_start: int, gap: int, temperature: float = 0.0,
             seed: int = 0, known_bars: int | None = None):
        """``(logits [B, T, C] teacher-forced on windows, tokens [B, T])`` of token windows
        ``[B, U * S]`` whose bars ``gap_start..gap_start + gap`` (and any bar from
        ``known_bars`` on) get codes from the prior; temperature applies to codes and tokens."""
        import tensorflow as tf

        data = self.config.data
        one_hot = tf.one_hot(np.asarray(windows, np.int32), data.num_classes)
        codes = np.asarray(self.model.codes(one_hot))
        groups = codes.shape[-1]
        masked = np.zeros(codes.shape[:2], bool)
        masked[:, gap_start:gap_start + gap] = True
        if known_bars is not None:
            masked[:, known_bars:] = True
        filled = self.prior.fill(codes.reshape(len(codes), -1), np.repeat(masked, groups, axis=1),
                                 temperature, seed)
        vectors = self.model.code_vectors(filled.reshape(codes.shape))
        logits = self.model.decode_logits(vectors, one_hot)
        tokens = self.model.sample_tokens(vectors, temperature=temperature, seed=seed)
        return np.asarray(logits), np.asarray(tokens)

    def gap_tokens(self, window_bars: np.ndarray, split, num_outputs: int = 1,
                   temperature: float = 0.5, seed: int | None = None) -> np.ndarray:
        """Tokens ``[num_outputs, split.gap, S]`` for the gap of one window ``[U', S]``; a window
        shorter than the model's is padded with bars whose codes are drawn too."""
        data = self.config.data
        window = np.zeros((self.window_bars, data.steps_per_bar), np.int32)
        window[:len(window_bars)] = window_bars
        windows = np.repeat(window.reshape(1, -1), num_outputs, axis=0)
        seed = int(np.random.default_rng().integers(2**31 - 1)) if seed is None else int(seed)
        _, tokens = self.fill(windows, split.gap_start, split.gap, temperature, seed,
                              known_bars=len(window_bars))
        bars = tokens.reshape(num_outputs, self.window_bars, data.steps_per_bar)
        return bars[:, split.gap_start:split.gap_end]

    def score(self, windows: np.ndarray, split, metric, seed: int = 0) -> None:
        """Add the gap bars of token windows ``[B, U * S]`` (greedy fill) to a ``GapMetrics``."""
        steps = self.config.data.steps_per_bar
        logits, tokens = self.fill(windows, split.gap_start, split.gap, 0.0, seed)
        gap = slice(split.gap_start * steps, split.gap_end * steps)
        metric.add(np.asarray(windows)[:, gap], tokens[:, gap], logits[:, gap])


def load_vq_inpainter(run_dir, config) -> VQInpainter:
    """The VQ-VAE of a run dir with its trained code prior."""
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.models.vq_vae.family import latent_prior

    model, config, source = load_run_model(run_dir)
    return VQInpainter(model, config, latent_prior(model, config, source).prior)

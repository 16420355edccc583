"""Baselines the latent RNN is compared with (SPEC §7 and issue 5).

- Latent interpolation (the paper's baseline): the gap latents lie evenly on the straight line from
  the last past bar's latent to the first future bar's latent, endpoints excluded.
- Repeat the last past bar: every gap bar is a copy of the tokens of the bar before the gap. For its
  NLL we decode the repeated bar's own latent with the measure decoder (a copy has no distribution).

The 16-bar hierarchical MusicVAE baseline needs gradient steps on z; see ``latent_search``.
"""

from __future__ import annotations

import numpy as np

from musicvae_tf.models.inpainting.gap import GapSplit


def interpolation_latents(bar_latents: np.ndarray, split: GapSplit) -> np.ndarray:
    """``[B, gap, Z]`` latents linearly interpolated between bars ``gap_start-1`` and ``gap_end``."""
    bar_latents = np.asarray(bar_latents)
    before = bar_latents[:, split.gap_start - 1]
    after = bar_latents[:, split.gap_end]
    fractions = np.arange(1, split.gap + 1, dtype=bar_latents.dtype) / (split.gap + 1)
    return before[:, None, :] + fractions[None, :, None] * (after - before)[:, None, :]


def repeat_last_bar_latents(bar_latents: np.ndarray, split: GapSplit) -> np.ndarray:
    """``[B, gap, Z]``: the latent of the bar before the gap, once per gap bar."""
    last = np.asarray(bar_latents)[:, split.gap_start - 1]
    return np.repeat(last[:, None, :], split.gap, axis=1)


def repeat_last_bar_tokens(bar_tokens: np.ndarray, split: GapSplit) -> np.ndarray:
    """``[B, gap, S]``: the tokens of the bar before the gap, once per gap bar."""
    last = np.asarray(bar_tokens)[:, split.gap_start - 1]
    return np.repeat(last[:, None, :], split.gap, axis=1)

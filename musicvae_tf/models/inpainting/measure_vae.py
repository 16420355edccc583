"""Config and data glue for the measure VAE: our MusicVAE over one bar, trained on the inpainting data.

The measure VAE config (``configs/measure-vae*.yaml``) is an ordinary MusicVAE config whose data
section has ``num_bars: 1``. It does not get its own prepared data: it trains on every bar of the
16-bar windows prepared for the latent RNN, so both stages share one data set and one split by
piece. :func:`bars_of_windows` turns a batch of windows ``[B, U*S, ...]`` into ``[B*U, S, ...]``.
"""

from __future__ import annotations

import dataclasses

from musicvae_tf.config import Config, load_config
from data_pipelines.errors import UsageError

# Data fields the measure VAE must share with the windows it is cut from.
_SHARED_DATA_FIELDS = ("steps_per_quarter", "steps_per_bar", "min_pitch", "max_pitch")


def measure_vae_config(inpaint_config: Config, overrides: list[str] | None = None) -> Config:
    """The measure VAE config named by ``inpaint_config``'s ``measure_vae.config``, checked against its data.

    Its data section becomes the inpainting data section with ``num_bars`` 1, so pitch range, grid,
    programs and split fractions can never disagree between the stages.
    """
    section = inpaint_config.section("measure_vae")
    if section is None or not section.config:
        raise UsageError(f"config {inpaint_config.name} needs measure_vae.config (a measure VAE config name)")
    config = load_config(section.config, overrides)
    if config.data.num_bars != 1:
        raise UsageError(f"measure VAE config {config.name} must have data.num_bars 1")
    for field in _SHARED_DATA_FIELDS:
        mine, theirs = getattr(config.data, field), getattr(inpaint_config.data, field)
        if mine != theirs:
            raise UsageError(f"measure VAE config {config.name} has data.{field}={mine} but the "
                             f"inpainting data has {theirs}")
    data = dataclasses.replace(inpaint_config.data, num_bars=1)
    return dataclasses.replace(config, data=data)


def bars_of_windows(one_hot, tokens, steps_per_bar: int):
    """Split windows into bars: one-hot ``[B, T, C]`` and tokens ``[B, T]`` -> ``[B*T/S, S, ...]``."""
    import tensorflow as tf

    classes = tf.shape(one_hot)[-1]
    return (tf.reshape(one_hot, [-1, steps_per_bar, classes]),
            tf.reshape(tokens, [-1, steps_per_bar]))


def windows_as_bars(one_hot, tokens, steps_per_bar: int):
    """Windows as bar grids: one-hot ``[B, T, C]`` -> ``[B, U, S, C]``, tokens ``[B, T]`` -> ``[B, U, S]``."""
    import tensorflow as tf

    batch, classes = tf.shape(one_hot)[0], tf.shape(one_hot)[-1]
    return (tf.reshape(one_hot, [batch, -1, steps_per_bar, classes]),
            tf.reshape(tokens, [batch, -1, steps_per_bar]))

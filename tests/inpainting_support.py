"""Tiny inpainting configs, models, run dirs and pattern data shared by the inpainting tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musicvae_tf.config import config_from_dict, load_config

TINY_MEASURE = ["model.encoder_units=[24]", "model.latent_dim=8", "model.decoder_units=[24]"]


def tiny_inpaint_config(num_bars: int = 8, max_gap: int = 4, steps_per_bar: int = 16, **training):
    """A latent-RNN config over ``num_bars``-bar windows with a tiny latent RNN."""
    base = load_config("inpaint-latent-rnn-demo").to_dict()
    base["name"] = "tiny-inpaint"
    base["data"]["num_bars"] = num_bars
    base["data"]["steps_per_bar"] = steps_per_bar
    base["data"]["steps_per_quarter"] = max(1, steps_per_bar // 4)
    base["latent_rnn"] = {"context_units": 16, "context_layers": 1, "min_gap": 2,
                          "max_gap": max_gap, "min_context": 1}
    base["training"].update(training)
    return config_from_dict(base)


def tiny_measure_config(config, *extra: str):
    """The tiny measure VAE config that fits ``config``'s data grid."""
    from musicvae_tf.models.inpainting.measure_vae import measure_vae_config

    grid = [f"data.steps_per_bar={config.data.steps_per_bar}",
            f"data.steps_per_quarter={config.data.steps_per_quarter}"]
    return measure_vae_config(config, TINY_MEASURE + grid + list(extra))


def tiny_inpainting_model(config, seed: int = 0):
    """An untrained InpaintingModel with a tiny measure VAE (weights from ``seed``)."""
    import keras

    from musicvae_tf.models.inpainting.training import build_inpainting_model
    from musicvae_tf.models.music_vae.model import build_model

    keras.utils.set_random_seed(seed)
    measure_vae = build_model(tiny_measure_config(config))
    return build_inpainting_model(config, measure_vae)


def write_run(model, config, run_dir: Path) -> Path:
    """A finished run dir (config.yaml + model.keras) like train-inpainting leaves."""
    from musicvae_tf.training.run_files import export_model, write_run_config

    write_run_config(config, run_dir)
    export_model(model, run_dir)
    return run_dir


def pattern_bars(steps_per_bar: int = 16, min_pitch: int = 21) -> np.ndarray:
    """``[4, steps_per_bar]`` tokens: four different bars of four quarter notes each."""
    pitch_sets = [(60, 62, 64, 65), (72, 71, 69, 67), (55, 60, 55, 60), (64, 64, 76, 76)]
    bars = np.zeros((len(pitch_sets), steps_per_bar), np.int32)
    quarter = steps_per_bar // 4
    for row, pitches in enumerate(pitch_sets):
        for beat, pitch in enumerate(pitches):
            bars[row, beat * quarter] = 2 + pitch - min_pitch
    return bars


def alternating_windows(count: int, num_bars: int, steps_per_bar: int = 16, seed: int = 0) -> np.ndarray:
    """``[count, num_bars*steps_per_bar]`` windows alternating two different pattern bars (X Y X Y ...)."""
    rng = np.random.default_rng(seed)
    bars = pattern_bars(steps_per_bar)
    windows = []
    for _ in range(count):
        first, second = rng.choice(len(bars), size=2, replace=False)
        offset = rng.integers(2)
        order = [(first, second)[(i + offset) % 2] for i in range(num_bars)]
        windows.append(bars[order].reshape(-1))
    return np.stack(windows).astype(np.int32)

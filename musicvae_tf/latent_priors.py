"""What ``TrainedModel`` samples its latents from, per family: N(0, I) for MusicVAE, or the
family's own prior object (a ``latent_prior(model, config, model_path)`` hook, e.g. the VQ-VAE's
code prior). A prior has ``latent_dim``, ``sample(n, seed, temperature)`` -> float32 ``[n, D]`` and
``interpolation_space`` (None, or a sentence saying where interpolation happens)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class GaussianPrior:
    """z ~ N(0, I) of ``latent_dim`` dims (temperature does not apply)."""

    interpolation_space = None

    def __init__(self, latent_dim: int):
        self.latent_dim = int(latent_dim)

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0) -> np.ndarray:
        """``n`` draws, float32 ``[n, latent_dim]``."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)


def latent_prior_for(model, config, model_path: Path | None = None):
    """The prior of ``config``'s family for a loaded ``model``."""
    from musicvae_tf.models.registry import family_hooks

    hook = getattr(family_hooks(config.family), "latent_prior", None)
    if hook is None:
        return GaussianPrior(config.model.latent_dim)
    return hook(model, config, model_path)

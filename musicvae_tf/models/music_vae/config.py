"""The ``model`` section of a MusicVAE config: sizes of the recurrent VAE (SPEC §3, §5)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Sizes of the recurrent VAE (SPEC §3, §5). Encoder units are per direction."""

    encoder_units: tuple[int, ...] = (512,)
    # "flat" (one stack over all steps) or "hierarchical" (Magenta's hier-* encoder: one
    # bidirectional layer per bar, one over the bars; encoder_units then holds the two levels).
    encoder: str = "flat"
    latent_dim: int = 256
    decoder: str = "flat"  # "flat" or "hierarchical"
    decoder_units: tuple[int, ...] = (256, 256)
    conductor_units: tuple[int, ...] = ()
    # Whole-sequence LSTM passes: "fused" (the CPU kernel), "keras" (Keras's LSTM function, cuDNN
    # on a GPU) or "auto" (keras when a GPU is visible). Same weights either way.
    lstm_impl: str = "auto"
    # Batch-normalise the posterior mean to this fixed scale (BN-VAE, Zhu et al. 2020): every
    # dimension's mean then varies across a batch, which keeps the KL above zero and the latent
    # units active by construction. 0 (Magenta) leaves the mean as a plain Dense output.
    mu_batch_norm: float = 0.0

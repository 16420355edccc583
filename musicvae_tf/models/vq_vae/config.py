"""The vq_vae family's own config sections: ``vq`` (the quantiser) and ``prior`` (the code prior,
trained as a second stage in ``RUN/prior``)."""

from __future__ import annotations

import dataclasses

from data_pipelines.errors import UsageError


@dataclasses.dataclass(frozen=True)
class VQSection:
    """Per-bar quantiser: ``model.latent_dim`` per bar is split into ``num_groups`` codes of
    ``latent_dim / num_groups`` dims from one shared codebook (EMA updates, dead-code restarts).
    The decoder is always the bar decoder (``model.decoder`` and ``conductor_units`` are not read)."""

    num_groups: int = 4
    codebook_size: int = 512
    decay: float = 0.99
    epsilon: float = 1e-5
    commitment: float = 0.25
    dead_threshold: float = 1.0
    # Batch-normalise the encoder outputs (no learned scale or shift) before quantising, so they
    # keep unit variance across bars: without it the folk demo's encoder gave every bar the same
    # code per group within 60 steps (spread across bars 0.02 against a norm of 7).
    batch_norm: bool = True

    def validate(self, config) -> None:
        """UsageError when the sizes do not fit ``config``."""
        if self.num_groups < 1 or self.codebook_size < 2:
            raise UsageError("vq.num_groups must be >= 1 and vq.codebook_size >= 2")
        if config.model.latent_dim % self.num_groups:
            raise UsageError(f"model.latent_dim {config.model.latent_dim} must be a multiple of "
                             f"vq.num_groups {self.num_groups}")
        if not 0.0 < self.decay < 1.0:
            raise UsageError(f"vq.decay must lie in (0, 1), got {self.decay}")


@dataclasses.dataclass(frozen=True)
class PriorSection:
    """The masked code Transformer and its training (stage 2, on the frozen encoder's codes).

    Training masks: with probability ``gap_probability`` a gap of ``min_gap..max_gap`` whole bars
    (at least one known bar each side, part of its start revealed half the time), else every
    code from a random position on (left-to-right sampling)."""

    layers: int = 6
    d_model: int = 512
    heads: int = 8
    ffn: int = 2048
    dropout: float = 0.1
    num_steps: int = 20_000
    batch_size: int = 64
    learning_rate: float = 3e-4
    warmup_steps: int = 4000
    min_gap: int = 2
    max_gap: int = 6
    gap_probability: float = 0.5

    def validate(self, config) -> None:
        """UsageError when the sizes or gaps do not fit ``config``."""
        if min(self.layers, self.d_model, self.heads, self.ffn, self.batch_size) < 1:
            raise UsageError("prior sizes and batch_size must be >= 1")
        if self.d_model % self.heads:
            raise UsageError(f"prior.d_model {self.d_model} must be a multiple of prior.heads")
        if not 1 <= self.min_gap <= self.max_gap <= config.data.num_bars - 2:
            raise UsageError(f"prior gaps {self.min_gap}..{self.max_gap} do not fit "
                             f"{config.data.num_bars}-bar windows with a known bar each side")


SECTIONS = {"vq": VQSection, "prior": PriorSection}


def vq_settings(config) -> VQSection:
    """The ``vq`` section (defaults when absent)."""
    return config.section("vq") or VQSection()


def prior_settings(config) -> PriorSection:
    """The ``prior`` section (defaults when absent)."""
    return config.section("prior") or PriorSection()

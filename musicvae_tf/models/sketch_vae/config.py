"""The sketch_vae family's config section ``sketch_vae`` (sizes and the loss weights)."""

from __future__ import annotations

import dataclasses

from data_pipelines.errors import UsageError


@dataclasses.dataclass(frozen=True)
class SketchVAESection:
    """A per-bar VAE with a pitch and a rhythm latent (SPEC_MODELS §B2, fixed as §B5 asks).

    ``units`` is H of every GRU; the encoders are ``encoder_layers`` bidirectional GRUs, the
    decoder one beat GRU and one step GRU (``beats`` per bar). Loss per bar: token cross-entropy
    summed over the bar's steps + ``beta`` * (KL_pitch + KL_rhythm), each KL summed over its
    latent dims, with ``free_bits`` of the total KL free. ``training.batch_size`` counts bars
    (whole windows of the prepared 16-bar data, split into their bars); training is always
    teacher-forced (no scheduled sampling)."""

    units: int = 1024
    encoder_layers: int = 2
    pitch_embedding: int = 10
    pitch_latent: int = 128
    rhythm_latent: int = 128
    beats: int = 4
    dropout: float = 0.2
    beta: float = 0.2
    free_bits: float = 8.0

    def validate(self, config) -> None:
        """UsageError when the sizes do not fit ``config``."""
        if min(self.units, self.encoder_layers, self.pitch_embedding, self.pitch_latent,
               self.rhythm_latent, self.beats) < 1:
            raise UsageError("sketch_vae sizes must be >= 1")
        if config.data.steps_per_bar % self.beats:
            raise UsageError(f"sketch_vae.beats {self.beats} must divide the bar's "
                             f"{config.data.steps_per_bar} steps")
        if config.data.encoding != "melody":
            raise UsageError(f"sketch_vae reads melody tokens; data.encoding is "
                             f"{config.data.encoding!r}")


SECTIONS = {"sketch_vae": SketchVAESection}


def sketch_vae_settings(config) -> SketchVAESection:
    """The ``sketch_vae`` section (defaults when absent)."""
    return config.section("sketch_vae") or SketchVAESection()

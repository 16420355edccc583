"""The sketchnet family's config section ``sketchnet``: which SketchVAE, the two stages' sizes
and the simulated sketches of stage 2."""

from __future__ import annotations

import dataclasses

from data_pipelines.errors import UsageError


@dataclasses.dataclass(frozen=True)
class SketchNetSection:
    """SketchInpainter (stage 1) and SketchConnector (stage 2) over frozen SketchVAE latents.

    ``vae_run``: a finished sketch_vae run dir to build on; empty trains the SketchVAE of config
    ``vae_config`` first, in ``RUN/sketch_vae``. Training always uses the split ``past`` /
    ``gap`` / rest (6 / 4 / 6 as §B1). Stage 1 runs ``training.num_steps`` steps at
    ``training.learning_rate``; stage 2 ``connector_steps`` at a warm-up + cosine schedule peaking
    at ``connector_learning_rate``. In stage 2, with probability ``unmask_batch_probability`` per
    batch, each missing bar's true z_pitch and (independently) z_rhythm replace the connector's
    input and output with probability ``unmask_slot_probability`` (§B3's simulated sketches)."""

    vae_config: str = "sketch-vae"
    vae_run: str = ""
    past: int = 6
    gap: int = 4
    context_units: int = 512
    generation_units: int = 1024
    d_model: int = 512
    heads: int = 4
    layers: int = 4
    ffn: int = 2048
    dropout: float = 0.1
    connector_steps: int = 20_000
    connector_learning_rate: float = 7e-4
    warmup_steps: int = 4000
    unmask_batch_probability: float = 0.5
    unmask_slot_probability: float = 0.3

    def validate(self, config) -> None:
        """UsageError when the sizes or the split do not fit ``config``."""
        if min(self.context_units, self.generation_units, self.d_model, self.heads,
               self.layers, self.ffn) < 1:
            raise UsageError("sketchnet sizes must be >= 1")
        if self.d_model % self.heads:
            raise UsageError(f"sketchnet.d_model {self.d_model} must be a multiple of heads")
        if self.past < 1 or self.gap < 1 or self.past + self.gap >= config.data.num_bars:
            raise UsageError(f"sketchnet past {self.past} + gap {self.gap} must leave a known bar "
                             f"after the gap in {config.data.num_bars}-bar windows")
        for name in ("unmask_batch_probability", "unmask_slot_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise UsageError(f"sketchnet.{name} must lie in [0, 1]")


SECTIONS = {"sketchnet": SketchNetSection}


def sketchnet_settings(config) -> SketchNetSection:
    """The ``sketchnet`` section (defaults when absent)."""
    return config.section("sketchnet") or SketchNetSection()

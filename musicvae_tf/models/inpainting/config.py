"""The inpainting family's own config sections, ``measure_vae`` and ``latent_rnn`` (typed; checked
when the config is read)."""

from __future__ import annotations

import dataclasses

from data_pipelines.errors import UsageError
from musicvae_tf.models.inpainting.gap import GapRange, SplitRange


@dataclasses.dataclass(frozen=True)
class MeasureVAESection:
    """Which measure VAE the latent RNN builds on: a config name and, once trained, its run dir."""

    config: str = ""
    run: str = ""


@dataclasses.dataclass(frozen=True)
class LatentRNNSettings(GapRange):
    """The ``latent_rnn`` section: the gaps training draws (:class:`GapRange`) and the context
    RNN sizes."""

    context_units: int = 512
    context_layers: int = 2

    def split_range(self, num_bars: int) -> SplitRange:
        """The splits training draws from windows of ``num_bars`` bars."""
        return SplitRange(num_bars=num_bars, min_gap=self.min_gap, max_gap=self.max_gap,
                          min_context=self.min_context)

    def validate(self, config) -> None:
        """Raise UsageError when these settings do not fit ``config``'s windows."""
        if self.context_units < 1 or self.context_layers < 1:
            raise UsageError("latent_rnn.context_units and context_layers must be >= 1")
        self.split_range(config.data.num_bars)  # raises UsageError for a bad gap range

    @classmethod
    def from_config(cls, config) -> "LatentRNNSettings":
        """The ``latent_rnn`` section of an inpainting config (UsageError for any other)."""
        settings = config.section("latent_rnn")
        if settings is None:
            raise UsageError(f"config {config.name} has no latent_rnn section (not an inpainting "
                             "config)")
        return settings


SECTIONS = {"measure_vae": MeasureVAESection, "latent_rnn": LatentRNNSettings}

"""The pianotree family's own config section ``pianotree``: the network sizes (``model.latent_dim``
is z; ``model.encoder_units`` / ``decoder_units`` are not read)."""

from __future__ import annotations

import dataclasses

from data_pipelines.errors import UsageError


@dataclasses.dataclass(frozen=True)
class PianoTreeSection:
    """Sizes of the PianoTree VAE (defaults: SPEC_MODELS §C) and its loss weights.

    ``architecture: roll`` builds the piano-roll baseline instead (``pianotree.pianoroll``): its
    encoder GRU has ``encoder_time_units`` per direction, its decoder GRU ``decoder_time_units``,
    its z projection ``z_input``; the other sizes are not read."""

    architecture: str = "tree"

    note_embedding: int = 128
    encoder_note_units: int = 256
    encoder_time_units: int = 512
    z_input: int = 256
    summary_units: int = 128
    decoder_time_units: int = 1024
    decoder_note_units: int = 512
    duration_units: int = 64
    duration_weights: tuple[float, ...] = (1.0, 0.6, 0.4, 0.3, 0.3)

    def validate(self, config) -> None:
        """UsageError when a size is not positive or the data is not the pianotree encoding."""
        if self.architecture not in ("tree", "roll"):
            raise UsageError(f"pianotree.architecture must be tree or roll, got "
                             f"{self.architecture!r}")
        sizes = [getattr(self, f.name) for f in dataclasses.fields(self)
                 if f.name not in ("duration_weights", "architecture")]
        if min(sizes) < 1:
            raise UsageError("pianotree sizes must be >= 1")
        if len(self.duration_weights) != 5:
            raise UsageError("pianotree.duration_weights needs 5 values (MSB first)")
        if config.data.encoding != "pianotree":
            raise UsageError("the pianotree family needs data.encoding: pianotree")


SECTIONS = {"pianotree": PianoTreeSection}


def pianotree_settings(config) -> PianoTreeSection:
    """The ``pianotree`` section (defaults when absent)."""
    return config.section("pianotree") or PianoTreeSection()

"""The data section of a config: how pieces become token windows (SPEC §1).

It lives in ``data_pipelines`` so that the data code needs nothing from ``musicvae_tf``;
``musicvae_tf.config`` builds and validates it with the other sections.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """How pieces become token windows (SPEC §1)."""

    # The data representation (``data_pipelines.encodings``): "melody" is the 90-class melody.
    encoding: str = "melody"
    num_bars: int = 2
    steps_per_quarter: int = 4
    steps_per_bar: int = 16
    min_pitch: int = 21
    max_pitch: int = 108
    # Inclusive [low, high] General MIDI program range; None keeps every non-drum program.
    programs: tuple[int, int] | None = (0, 31)
    gap_bars: int = 1
    # Melodies are cut after this many bars before windows are sliced (Magenta's max_bars); None
    # keeps whole melodies.
    max_bars: int | None = 100
    # Training reads at most this many windows per piece per epoch, a fresh random draw each epoch
    # (prepare keeps every window); 0 reads them all. Eval and test always read every window.
    max_windows_per_piece: int = 5
    # Drop windows without any note-on (Magenta keeps them): they teach nothing but silence.
    drop_empty_windows: bool = True
    # Inclusive transposition range applied as training augmentation; (0, 0) disables it.
    transpose_range: tuple[int, int] = (-5, 5)
    eval_fraction: float = 0.1
    test_fraction: float = 0.1
    # prepare skips (and counts) a piece whose notes span more steps than this, checked before any
    # per-step allocation: one note of an enormous duration cannot exhaust memory.
    max_piece_steps: int = 100_000
    # prepare skips a piece whose reading and extraction take longer than this many seconds (a
    # music21 parse can hang on a tiny tune); 0 disables the limit.
    max_seconds_per_piece: float = 60.0

    @property
    def num_classes(self) -> int:
        """Token vocabulary: no-event, note-off and one note-on per pitch in range."""
        return 2 + self.max_pitch - self.min_pitch + 1

    @property
    def num_steps(self) -> int:
        """Steps in one window."""
        return self.num_bars * self.steps_per_bar

"""Where the gap lies in a window of bars, and the context views the latent RNN reads.

A split of ``U`` bars is ``past`` known bars, then ``gap`` missing bars, then ``future`` known bars.
Training samples one split per batch (2..6 missing bars, at least one context bar on each side,
SPEC §7); evaluation protocol A is the fixed 6 / 4 / 6 split of the paper's listening test.

To keep one traced graph for every split, the latent RNN always sees fixed-length, right-padded
sequences with masks instead of slices whose length changes from batch to batch:
``past`` is bars ``[0, gap_start)``, ``future`` is bars ``[gap_end, U)`` moved to the front, and
the gap is ``max_gap`` slots of which the first ``gap_length`` are real.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from data_pipelines.errors import UsageError


@dataclasses.dataclass(frozen=True)
class GapSplit:
    """``past`` known bars, ``gap`` missing bars, ``future`` known bars, in that order."""

    past: int
    gap: int
    future: int

    @property
    def num_bars(self) -> int:
        """Bars in the whole window."""
        return self.past + self.gap + self.future

    @property
    def gap_start(self) -> int:
        """Index of the first missing bar (0-based)."""
        return self.past

    @property
    def gap_end(self) -> int:
        """Index one past the last missing bar."""
        return self.past + self.gap


PROTOCOL_A = GapSplit(past=6, gap=4, future=6)


@dataclasses.dataclass(frozen=True)
class GapRange:
    """Gaps of ``min_gap..max_gap`` missing bars with at least ``min_context`` known bars on each
    side (SPEC §7's 2..6 and 1); the ``latent_rnn`` config section holds these fields too."""

    min_gap: int = 2
    max_gap: int = 6
    min_context: int = 1


@dataclasses.dataclass(frozen=True)
class SplitRange(GapRange):
    """Which splits training samples from a :class:`GapRange` in windows of ``num_bars`` bars."""

    num_bars: int = 16

    def __post_init__(self):
        if not 1 <= self.min_gap <= self.max_gap:
            raise UsageError("latent_rnn needs 1 <= min_gap <= max_gap")
        if self.min_context < 1:
            raise UsageError("latent_rnn.min_context must be >= 1 (the model needs both sides)")
        if self.max_gap + 2 * self.min_context > self.num_bars:
            raise UsageError(f"a {self.max_gap}-bar gap with {self.min_context} context bar(s) on each "
                             f"side does not fit in {self.num_bars} bars")

    def all_splits(self) -> list[GapSplit]:
        """Every split training can draw."""
        return [GapSplit(past, gap, self.num_bars - past - gap)
                for gap in range(self.min_gap, self.max_gap + 1)
                for past in range(self.min_context, self.num_bars - gap - self.min_context + 1)]

    def sample(self, rng: np.random.Generator) -> GapSplit:
        """Draw a gap length uniformly, then where it starts uniformly among the places it fits."""
        gap = int(rng.integers(self.min_gap, self.max_gap + 1))
        past = int(rng.integers(self.min_context, self.num_bars - gap - self.min_context + 1))
        return GapSplit(past, gap, self.num_bars - past - gap)

    def sample_tensor(self, seed):
        """The same draw as :meth:`sample` with TF stateless ops: int32 ``[gap_start, gap_length]``.

        ``seed`` is a shape-[2] int tensor, so a tf.data pipeline can give each batch its own split.
        """
        import tensorflow as tf

        seeds = tf.random.split(tf.cast(seed, tf.int64), 2)
        gap = tf.random.stateless_uniform([], seeds[0], self.min_gap, self.max_gap + 1, dtype=tf.int32)
        past = tf.random.stateless_uniform([], seeds[1], 0, 2**30, dtype=tf.int32)
        positions = self.num_bars - gap - 2 * self.min_context + 1
        past = self.min_context + past % positions
        return tf.stack([past, gap])


def context_views(bar_latents, gap_start, gap_length, max_gap: int):
    """Fixed-shape inputs of the latent RNN for one split shared by the batch.

    ``bar_latents`` is ``[B, U, Z]``; ``gap_start`` and ``gap_length`` are int scalars (tensors or
    Python ints). Returns a dict of
    ``past`` [B, U, Z] and ``past_mask`` [B, U] (bars before the gap, right-padded with zeros),
    ``future`` [B, U, Z] and ``future_mask`` [B, U] (bars after the gap moved to the front),
    ``gap_mask`` [B, max_gap] (True for the ``gap_length`` real gap slots).
    """
    from keras import ops

    num_bars = ops.shape(bar_latents)[1]
    batch = ops.shape(bar_latents)[0]
    gap_start = ops.cast(gap_start, "int32")
    gap_end = gap_start + ops.cast(gap_length, "int32")
    positions = ops.arange(num_bars, dtype="int32")
    past_mask = positions < gap_start
    future_len = num_bars - gap_end
    future_mask = positions < future_len
    source = ops.minimum(positions + gap_end, num_bars - 1)
    future = ops.take(bar_latents, source, axis=1)
    zeros = ops.zeros_like(bar_latents)
    past = ops.where(past_mask[None, :, None], bar_latents, zeros)
    future = ops.where(future_mask[None, :, None], future, zeros)
    gap_mask = ops.arange(max_gap, dtype="int32") < ops.cast(gap_length, "int32")

    def tile(mask):
        return ops.broadcast_to(mask[None, :], (batch, ops.shape(mask)[0]))

    return {"past": past, "past_mask": tile(past_mask), "future": future,
            "future_mask": tile(future_mask), "gap_mask": tile(gap_mask)}


def gap_bars(bar_values, gap_start, max_gap: int):
    """Bars ``[gap_start, gap_start + max_gap)`` of ``bar_values`` [B, U, ...] (indices clipped at U-1).

    Slots past the real gap length repeat the last bar; callers mask them with ``gap_mask``.
    """
    from keras import ops

    num_bars = ops.shape(bar_values)[1]
    index = ops.minimum(ops.cast(gap_start, "int32") + ops.arange(max_gap, dtype="int32"), num_bars - 1)
    return ops.take(bar_values, index, axis=1)

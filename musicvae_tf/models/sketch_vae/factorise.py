"""A bar of melody tokens as (onset pitches, rhythm row) and back, exactly.

Tokens (``data_pipelines.tokens``): 0 continues what sounds (a held note or a rest), 1 ends the
sounding note, ``2 + pitch - min_pitch`` starts a note. The rhythm row keeps exactly that event
type per step, so the round trip bar -> (pitches, rhythm) -> bar is exact:

- ``HOLD`` (0): token 0, nothing new happens (a note sustains, or a rest continues);
- ``REST`` (1): token 1, the sounding note stops here (silence starts);
- ``ONSET`` (2): a note starts; its pitch is the next entry of the pitch row.

The pitch row holds the onset tokens in order, padded with ``PAD`` (0, never an onset) to the
bar's length, and the count of onsets. A user's pattern (``x`` onset, ``-`` hold, ``.`` rest)
names the sound per step instead; :func:`pattern_rhythm` maps ``.`` to ``REST`` only where a
note was sounding (or at the bar's first step) and to ``HOLD`` where silence continues.

The functions use ``keras.ops`` and accept numpy arrays or tensors ``[..., S]``.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from data_pipelines.errors import UsageError
from data_pipelines.tokens import FIRST_PITCH_TOKEN

HOLD, REST, ONSET = 0, 1, 2
NUM_RHYTHM_CLASSES = 3
PAD = 0
PATTERN_CHARS = {"x": "onset", "-": "hold", ".": "rest"}


def rhythm_row(bars):
    """Rhythm classes int32 ``[..., S]`` of token bars ``[..., S]``."""
    bars = ops.cast(bars, "int32")
    return ops.where(bars >= FIRST_PITCH_TOKEN, ONSET, bars)


def pitch_row(bars):
    """``(pitches [..., S], counts [...])``: the onset tokens in order, padded with ``PAD``."""
    bars = ops.cast(bars, "int32")
    steps = bars.shape[-1]
    onset = bars >= FIRST_PITCH_TOKEN
    index = ops.broadcast_to(ops.arange(steps, dtype="int32"), ops.shape(bars))
    order = ops.argsort(ops.where(onset, index, index + steps), axis=-1)
    counts = ops.sum(ops.cast(onset, "int32"), axis=-1)
    pitches = ops.take_along_axis(bars, order, axis=-1)
    return ops.where(index < counts[..., None], pitches, PAD), counts


def compose_bars(pitches, rhythm):
    """Token bars ``[..., S]`` from pitch rows and rhythm rows (inverse of the two above); the
    k-th onset of the rhythm gets the k-th pitch, so rows must hold as many pitches as onsets."""
    rhythm = ops.cast(rhythm, "int32")
    pitches = ops.cast(pitches, "int32")
    onset = rhythm == ONSET
    slot = ops.clip(ops.cumsum(ops.cast(onset, "int32"), axis=-1) - 1, 0, pitches.shape[-1] - 1)
    return ops.where(onset, ops.take_along_axis(pitches, slot, axis=-1), rhythm)


def pattern_rhythm(pattern: str, steps: int) -> np.ndarray:
    """Rhythm classes int32 ``[steps]`` of a user pattern (``x`` onset, ``-`` hold, ``.`` rest);
    UsageError for a wrong length, an unknown character or a hold with nothing to hold."""
    if len(pattern) != steps:
        raise UsageError(f"rhythm pattern {pattern!r} has {len(pattern)} steps; a bar has {steps}")
    bad = sorted(set(pattern) - set(PATTERN_CHARS))
    if bad:
        raise UsageError(f"rhythm pattern {pattern!r}: unknown character(s) {''.join(bad)!r}; "
                         "use x (onset), - (hold), . (rest)")
    row, sounding = [], None
    for step, char in enumerate(pattern):
        if char == "x":
            row.append(ONSET)
            sounding = True
        elif char == "-":
            if sounding is False:
                raise UsageError(f"rhythm pattern {pattern!r}: '-' at step {step + 1} holds a "
                                 "rest; use '.' for silence")
            row.append(HOLD)
        else:
            row.append(REST if sounding or step == 0 else HOLD)
            sounding = False
    return np.asarray(row, np.int32)


def pitch_tokens(pitches, min_pitch: int, max_pitch: int) -> list[int]:
    """Onset tokens of MIDI pitches (range-checked); UsageError outside the model's range."""
    tokens = []
    for pitch in pitches:
        if not min_pitch <= pitch <= max_pitch:
            raise UsageError(f"pitch {pitch} lies outside the model's range "
                             f"{min_pitch}..{max_pitch}")
        tokens.append(FIRST_PITCH_TOKEN + pitch - min_pitch)
    return tokens

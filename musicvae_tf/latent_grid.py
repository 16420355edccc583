"""magenta-js's 4-corner interpolation: a square grid of latents blended bilinearly from 4 corners.

With corners ``A`` (top left), ``B`` (top right), ``C`` (bottom left) and ``D`` (bottom right), the
point in row ``r`` and column ``c`` of an ``n`` x ``n`` grid, with ``u = c / (n - 1)`` and
``v = r / (n - 1)``, is ``(1-u)(1-v) A + u(1-v) B + (1-u)v C + uv D``: the top row runs from A
to B, the left column from A to C, and each corner is exactly its input.
"""

from __future__ import annotations

import numpy as np

from data_pipelines.errors import UsageError


def bilinear_grid(corners, num_per_side: int) -> np.ndarray:
    """Latents float32 ``[n, n, D]`` blended from the four ``corners`` (``[4, D]``: A, B, C, D)."""
    corners = np.asarray(corners, np.float64)
    if corners.ndim != 2 or corners.shape[0] != 4:
        raise UsageError(f"a 4-corner grid needs 4 latents, got shape {list(corners.shape)}")
    if num_per_side < 2:
        raise UsageError(f"a 4-corner grid needs at least 2 points per side (got {num_per_side})")
    t = np.linspace(0.0, 1.0, num_per_side)
    v, u = t[:, None, None], t[None, :, None]
    a, b, c, d = corners
    grid = (1 - u) * (1 - v) * a + u * (1 - v) * b + (1 - u) * v * c + u * v * d
    return grid.astype(np.float32)

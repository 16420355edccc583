"""Paths between two latent vectors: spherical (slerp) and linear (lerp), endpoints included.

Slerp follows the great circle between the directions of ``a`` and ``b`` while the norm moves
linearly from ``|a|`` to ``|b|``. For unit-norm or equal-norm inputs this is the textbook slerp; it
stays finite where the textbook formula divides by zero:

- equal (or nearly parallel) directions, or a zero vector: the path is linear;
- opposite directions: every great circle joins them, so we take the one through a fixed direction
  orthogonal to ``a`` (built from the coordinate axis least aligned with ``a``), which is
  deterministic and keeps the norm away from zero, unlike the straight line through the origin.
"""

from __future__ import annotations

import numpy as np

from data_pipelines.errors import UsageError

METHODS = ("slerp", "lerp")
# Below this angle (radians) from 0 or pi the sine of the angle is too small to divide by.
_ANGLE_EPS = 1e-4


def interpolation_weights(num_steps: int) -> np.ndarray:
    """``num_steps`` evenly spaced weights from 0 to 1 inclusive."""
    if num_steps < 2:
        raise UsageError(f"an interpolation needs at least 2 steps (got {num_steps})")
    return np.linspace(0.0, 1.0, num_steps)


def lerp(a: np.ndarray, b: np.ndarray, num_steps: int) -> np.ndarray:
    """Straight line from ``a`` to ``b``: float32 [num_steps, D], first row a, last row b."""
    a, b = _as_pair(a, b)
    t = interpolation_weights(num_steps)[:, None]
    path = (1.0 - t) * a + t * b
    return _with_exact_endpoints(path, a, b)


def slerp(a: np.ndarray, b: np.ndarray, num_steps: int) -> np.ndarray:
    """Great-circle path from ``a`` to ``b``: float32 [num_steps, D], never NaN for finite inputs."""
    a, b = _as_pair(a, b)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0.0 or norm_b == 0.0:
        return lerp(a, b, num_steps)
    unit_a, unit_b = a / norm_a, b / norm_b
    angle = float(np.arccos(np.clip(np.dot(unit_a, unit_b), -1.0, 1.0)))
    if angle < _ANGLE_EPS:
        return lerp(a, b, num_steps)
    t = interpolation_weights(num_steps)[:, None]
    if angle > np.pi - _ANGLE_EPS:
        turn = _orthogonal_unit(unit_a)
        directions = np.cos(np.pi * t) * unit_a + np.sin(np.pi * t) * turn
    else:
        directions = (np.sin((1.0 - t) * angle) * unit_a + np.sin(t * angle) * unit_b) / np.sin(angle)
    path = directions * ((1.0 - t) * norm_a + t * norm_b)
    return _with_exact_endpoints(path, a, b)


def interpolate_latents(a: np.ndarray, b: np.ndarray, num_steps: int, method: str = "slerp") -> np.ndarray:
    """Dispatch to :func:`slerp` or :func:`lerp` by name."""
    if method == "slerp":
        return slerp(a, b, num_steps)
    if method == "lerp":
        return lerp(a, b, num_steps)
    raise UsageError(f"unknown interpolation method {method!r}; choose one of: {', '.join(METHODS)}")


def _as_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise UsageError(f"cannot interpolate between latents of sizes {a.size} and {b.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise UsageError("cannot interpolate between latents that are not finite")
    return a, b


def _orthogonal_unit(unit: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to ``unit``: the least-aligned coordinate axis, Gram-Schmidt'ed."""
    if unit.size == 1:
        return np.zeros_like(unit)  # No orthogonal direction in 1-D: the path goes through zero.
    axis = np.zeros_like(unit)
    axis[int(np.argmin(np.abs(unit)))] = 1.0
    axis -= np.dot(axis, unit) * unit
    return axis / np.linalg.norm(axis)


def _with_exact_endpoints(path: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    path[0], path[-1] = a, b
    return path.astype(np.float32)

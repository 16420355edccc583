"""magenta-js's 4-corner grid: bilinear blends whose corners are the inputs."""

import numpy as np
import pytest

from data_pipelines.errors import UsageError
from musicvae_tf.latent_grid import bilinear_grid


def test_corners_edges_and_centre_of_the_grid():
    corners = np.random.default_rng(0).standard_normal((4, 6))
    a, b, c, d = corners
    grid = bilinear_grid(corners, 3)
    assert grid.shape == (3, 3, 6) and grid.dtype == np.float32
    for (r, col), corner in {(0, 0): a, (0, 2): b, (2, 0): c, (2, 2): d}.items():
        np.testing.assert_allclose(grid[r, col], corner, rtol=1e-6)
    np.testing.assert_allclose(grid[0, 1], (a + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(grid[1, 0], (a + c) / 2, rtol=1e-6)
    np.testing.assert_allclose(grid[1, 1], corners.mean(axis=0), rtol=1e-6)


def test_bad_grids_are_usage_errors():
    with pytest.raises(UsageError, match="4 latents"):
        bilinear_grid(np.zeros((2, 3)), 3)
    with pytest.raises(UsageError, match="at least 2 points"):
        bilinear_grid(np.zeros((4, 3)), 1)

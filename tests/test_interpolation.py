"""slerp / lerp: endpoints included, finite on equal, opposite and zero vectors."""

import numpy as np
import pytest

from data_pipelines.errors import UsageError
from musicvae_tf.interpolation import interpolate_latents, lerp, slerp


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_endpoints_are_the_inputs(method):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    path = interpolate_latents(a, b, 7, method)
    assert path.shape == (7, 16) and path.dtype == np.float32
    np.testing.assert_allclose(path[0], a, rtol=1e-6)
    np.testing.assert_allclose(path[-1], b, rtol=1e-6)


def test_slerp_follows_the_great_circle_for_unit_vectors():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    path = slerp(a, b, 3)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5), 0.0], atol=1e-6)


def test_slerp_moves_the_norm_linearly():
    a, b = np.array([2.0, 0.0]), np.array([0.0, 4.0])
    np.testing.assert_allclose(np.linalg.norm(slerp(a, b, 5), axis=1), [2, 2.5, 3, 3.5, 4], rtol=1e-6)


@pytest.mark.parametrize("case", ["equal", "opposite", "nearly_opposite", "zero", "one_dim_opposite"])
def test_slerp_never_nan(case):
    rng = np.random.default_rng(1)
    a = rng.normal(size=1 if case == "one_dim_opposite" else 32)
    b = {"equal": a, "opposite": -a, "nearly_opposite": -a + 1e-9, "zero": np.zeros_like(a),
         "one_dim_opposite": -a}[case]
    path = slerp(a, b, 9)
    assert np.all(np.isfinite(path))
    np.testing.assert_allclose(path[0], a, rtol=1e-6)
    np.testing.assert_allclose(path[-1], b, rtol=1e-6, atol=1e-6)
    if case == "equal":
        np.testing.assert_allclose(path, np.repeat(a[None].astype(np.float32), 9, 0), rtol=1e-6)


def test_slerp_between_opposite_vectors_keeps_its_norm():
    a = np.random.default_rng(2).normal(size=8)
    norms = np.linalg.norm(slerp(a, -a, 11), axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(a), rtol=1e-5)


def test_lerp_midpoint():
    np.testing.assert_allclose(lerp([0.0, 2.0], [2.0, 0.0], 3)[1], [1.0, 1.0])


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError, match="at least 2 steps"):
        slerp([1.0], [2.0], 1)
    with pytest.raises(UsageError, match="sizes"):
        lerp([1.0, 2.0], [1.0], 3)
    with pytest.raises(UsageError, match="method"):
        interpolate_latents([1.0], [2.0], 3, "cubic")
    with pytest.raises(UsageError, match="finite"):
        slerp([np.nan], [1.0], 3)

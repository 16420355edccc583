"""Test isolation: no test inherits the global Keras dtype policy another test set."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def float32_dtype_policy():
    """Start every test under float32.

    An in-process ``train`` resolves ``--precision auto`` to mixed bfloat16 on CPUs with native BF16
    (AVX-512 BF16 / AMX) and sets that policy globally; without this reset, a later test that builds a
    model would silently train in bfloat16 on such machines only.
    """
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.config.set_dtype_policy("float32")

"""``--precision auto``: bf16 only where the CPU multiplies it natively and no GPU is in use."""

import pytest

from data_pipelines.errors import UsageError
from musicvae_tf.training import precision


@pytest.mark.parametrize("flags, has_gpu, expected", [
    ({"avx2", "avx512f", "avx512_bf16"}, False, "mixed_bfloat16"),
    ({"avx2", "amx_bf16", "amx_tile"}, False, "mixed_bfloat16"),
    ({"avx2", "avx512f"}, False, "float32"),
    (set(), False, "float32"),
    ({"avx512_bf16"}, True, "float32"),
])
def test_auto_picks_by_hardware(monkeypatch, flags, has_gpu, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    chosen, why = precision.resolve_precision("auto", has_gpu=has_gpu)
    assert chosen == expected and why.startswith("auto")


def test_explicit_precisions_pass_through_and_unknown_ones_fail():
    assert precision.resolve_precision("float32", has_gpu=True) == ("float32", "as asked")
    assert precision.resolve_precision("mixed_float16")[0] == "mixed_float16"
    with pytest.raises(UsageError, match="unknown precision 'float8'"):
        precision.resolve_precision("float8")
    with pytest.raises(UsageError, match="resolve 'auto' first"):
        precision.set_precision("auto")

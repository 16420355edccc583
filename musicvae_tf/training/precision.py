"""Numeric precision (``--precision``): the Keras dtype policy and the matching optimiser."""

from __future__ import annotations

from data_pipelines.errors import UsageError

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> set[str]:
    """The CPU feature flags Linux reports in ``/proc/cpuinfo`` (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as handle:
            return next((set(line.split(":", 1)[1].split()) for line in handle
                         if line.startswith("flags")), set())
    except OSError:
        return set()


def resolve_precision(name: str, has_gpu: bool = False) -> tuple[str, str]:
    """``(precision, why)`` for a ``--precision`` value; ``auto`` picks by hardware.

    ``auto`` is mixed_bfloat16 on a CPU that multiplies bf16 natively (AVX512_BF16 or AMX:
    about 1.5x the float32 training speed here, same learning curves within noise) and float32
    elsewhere, GPUs included (their LSTM path is float32 today).
    """
    if name not in PRECISIONS:
        raise UsageError(f"unknown precision {name!r}; choose one of: {', '.join(PRECISIONS)}")
    if name != "auto":
        return name, "as asked"
    if has_gpu:
        return "float32", "auto: a GPU is visible"
    native = sorted(set(NATIVE_BF16_FLAGS) & cpu_flags())
    if native:
        return "mixed_bfloat16", f"auto: this CPU has {', '.join(native)}"
    return "float32", "auto: this CPU has no native bf16 (AVX512_BF16 / AMX)"


def set_precision(name: str) -> None:
    """Set the global Keras dtype policy; call before the model is built.

    Under the mixed policies layers compute in 16 bits and keep float32 variables; the model keeps
    its logits layer in float32 (SPEC §8) and the losses are computed in float32.
    """
    if name not in PRECISIONS or name == "auto":
        raise UsageError(f"unknown precision {name!r}; choose one of: "
                         f"{', '.join(PRECISIONS[1:])} (resolve 'auto' first)")
    import keras

    keras.mixed_precision.set_global_policy(name)


def build_optimizer(learning_rate, precision: str):
    """Adam with ``learning_rate`` (a float or a schedule); under mixed_float16 wrapped in a
    LossScaleOptimizer, whose ``scale_loss`` the train step applies before taking gradients
    (without it float16 gradients underflow and the model silently stops learning, SPEC §8).

    Clipping is not configured here: the train step clips by the global norm of the gradient
    summed over all replicas, which Keras' per-replica ``global_clipnorm`` cannot do.
    """
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    import keras

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def uses_loss_scaling(optimizer) -> bool:
    """Whether ``optimizer`` scales the loss dynamically (and so skips non-finite updates itself)."""
    import keras

    return isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

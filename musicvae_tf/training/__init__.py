"""Generic distributed training: strategies, precision, the compiled step, checkpoints, logs.

``train`` runs any ``TrainingTask`` (each family in ``musicvae_tf/models/`` has its own) and knows
no family. The names below are imported on first use, so that command-line validation
(``STRATEGIES``, ``PRECISIONS``) does not pay for importing TensorFlow.
"""

import importlib

_EXPORTS = {
    "PRECISIONS": "precision", "build_optimizer": "precision", "set_precision": "precision",
    "STRATEGIES": "strategy", "make_strategy": "strategy",
    "TrainingTask": "task",
    "TrainingResult": "trainer", "TrainingSetup": "trainer", "setup_training": "trainer",
    "train": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)

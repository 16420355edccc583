"""Export a model of this package as a TF1 checkpoint with Magenta's variable names and layout.

The folder gets ``model.ckpt.index``, ``model.ckpt.data-00000-of-00001`` and a ``checkpoint`` state
file with a relative path, i.e. what Magenta's ``TrainedModel`` and magenta-js's checkpoint
converter read. It is written with ``tf.raw_ops.SaveV2`` (``tf.train.Checkpoint`` can only write its
own object-graph names) and read back with ``tf.train.load_checkpoint`` before the state file is
written. Besides the model variables it holds ``global_step`` (0), as Magenta's checkpoints do.

Taking Magenta's run-time forget bias of 1.0 out of our forget-gate biases (and adding it back on
import) is exact in float32 for biases in [0.5, 2]; elsewhere each direction may round them to the
nearest float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_pipelines.errors import MusicVAEError
from data_pipelines.io_utils import atomic_write_bytes
from musicvae_tf.models.music_vae.magenta_layout import magenta_layout

CHECKPOINT_PREFIX = "model.ckpt"
STATE_FILE = "checkpoint"


def magenta_arrays(model) -> dict[str, np.ndarray]:
    """Every Magenta variable of ``model`` as a float32 array, keyed by its Magenta name."""
    if getattr(model, "mu_batch_norm", 0.0) > 0:
        raise MusicVAEError("a model trained with model.mu_batch_norm has no Magenta equivalent "
                            "(Magenta's posterior mean is a plain Dense layer)")
    if getattr(model, "bar_latent_dim", 0) > 0:
        raise MusicVAEError("a model with model.bar_latent_dim (staged training) has no Magenta "
                            "equivalent (Magenta's bar decoder reads the conductor's output, and "
                            "has no linear path from z to the bars)")
    arrays = {}
    for variable in magenta_layout(model):
        value = np.zeros(variable.shape, np.float32)
        for piece in variable.pieces:
            piece.into_magenta(value, np.asarray(piece.weight))
        arrays[variable.name] = value
    return arrays


def write_magenta_checkpoint(model, out_dir: str | Path) -> Path:
    """Write ``model`` into ``out_dir`` as a Magenta TF1 checkpoint; returns its prefix."""
    import tensorflow as tf

    out_dir = Path(out_dir)
    prefix = out_dir / CHECKPOINT_PREFIX
    if (out_dir / STATE_FILE).exists() or Path(f"{prefix}.index").exists():
        raise MusicVAEError(f"{out_dir} already holds a checkpoint; choose another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = magenta_arrays(model)
    arrays["global_step"] = np.array(0, np.int64)
    names = sorted(arrays)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(arrays[name]) for name in names])
    reader = tf.train.load_checkpoint(str(prefix))
    stored = reader.get_variable_to_shape_map()
    for name in names:
        if name not in stored or not np.array_equal(reader.get_tensor(name), arrays[name]):
            raise MusicVAEError(f"{prefix}: variable {name} did not read back as written")
    atomic_write_bytes(out_dir / STATE_FILE, (f'model_checkpoint_path: "{CHECKPOINT_PREFIX}"\n'
                                              f'all_model_checkpoint_paths: "{CHECKPOINT_PREFIX}"\n')
                       .encode())
    return prefix

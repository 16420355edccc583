"""Full-size released checkpoints map completely: every Magenta variable onto Keras weights and back.

The variable names and shapes below are those of Magenta's released cat-mel_2bar_big and
hierdec-mel_16bar checkpoints (SPEC_MODELS.md §A5). A stand-in reader exposes only the shape map,
and the model is built with deferred (unallocated) Keras variables, so no giant tensor is made.
"""

import keras
import numpy as np
import pytest

ENC = "encoder/cell_{}/bidirectional_rnn/{}/multi_rnn_cell/cell_0/lstm_cell/{}"


def encoder(*layer_rows):
    shapes = {}
    for index, rows in enumerate(layer_rows):
        for direction in ("fw", "bw"):
            shapes[ENC.format(index, direction, "kernel")] = (rows, 8192)
            shapes[ENC.format(index, direction, "bias")] = (8192,)
    return shapes | {"encoder/mu/kernel": (4096, 512), "encoder/mu/bias": (512,),
                     "encoder/sigma/kernel": (4096, 512), "encoder/sigma/bias": (512,)}


def cells(prefix, *kernels):
    shapes = {}
    for index, shape in enumerate(kernels):
        shapes[f"{prefix}/cell_{index}/lstm_cell/kernel"] = shape
        shapes[f"{prefix}/cell_{index}/lstm_cell/bias"] = (shape[1],)
    return shapes


RELEASED = {
    "cat-mel_2bar_big": (134_571_098, encoder(2138) | {
        "decoder/z_to_initial_state/kernel": (512, 12288), "decoder/z_to_initial_state/bias": (12288,),
        "decoder/output_projection/kernel": (2048, 90), "decoder/output_projection/bias": (90,),
    } | cells("decoder/multi_rnn_cell", (2650, 8192), (4096, 8192), (4096, 8192))),
    "hierdec-mel_16bar": (176_061_530, encoder(2138, 6144) | {
        "decoder/hierarchical_level_0/initial_state/kernel": (512, 4096),
        "decoder/hierarchical_level_0/initial_state/bias": (4096,),
        "core_decoder/decoder/z_to_initial_state/kernel": (1024, 4096),
        "core_decoder/decoder/z_to_initial_state/bias": (4096,),
        "core_decoder/decoder/output_projection/kernel": (1024, 90),
        "core_decoder/decoder/output_projection/bias": (90,),
    } | cells("decoder/hierarchical_level_0", (1025, 4096), (2048, 4096))
      | cells("core_decoder/decoder/multi_rnn_cell", (2138, 4096), (2048, 4096))),
}


class ShapeOnlyCheckpoint:
    """A checkpoint reader that knows variable shapes but holds no values."""

    format = "tf1"
    js_config = None

    def __init__(self, shapes):
        self.shapes = dict(shapes)


@pytest.mark.parametrize("name", RELEASED)
def test_every_released_variable_maps_to_keras_weights(name):
    from musicvae_tf.config import load_config
    from musicvae_tf.models.music_vae.magenta_import import resolve_config
    from musicvae_tf.models.music_vae.magenta_layout import check_checkpoint, magenta_layout
    from musicvae_tf.models.music_vae.model import build_model

    parameters, shapes = RELEASED[name]
    assert sum(int(np.prod(s)) for s in shapes.values()) == parameters  # the table is complete
    config, differences = resolve_config(ShapeOnlyCheckpoint(shapes), load_config(name))
    assert differences == []  # the bundled config has the released sizes
    with keras.StatelessScope(initialize_variables=False):
        model = build_model(config)
    layout = magenta_layout(model)
    check_checkpoint(layout, shapes, name)  # raises on a missing, mis-shaped or extra variable
    assert sorted(v.name for v in layout) == sorted(shapes)
    assert model.count_params() == parameters

    held = {}
    for variable in layout:
        rows = []
        for piece in variable.pieces:
            assert piece.shape_in(variable.shape) == tuple(piece.weight.shape), variable.name
            assert sorted(piece.columns) == list(range(variable.shape[-1])), variable.name
            held.setdefault(piece.weight.path, []).append(variable.name)
            if len(variable.shape) == 2:
                rows.extend(range(*piece.rows.indices(variable.shape[0])))
        if len(variable.shape) == 2:  # the pieces' rows cover the variable once, in order
            assert rows == list(range(variable.shape[0])), variable.name
    assert sorted(held) == sorted(w.path for w in model.weights)
    assert all(len(names) == 1 for names in held.values())

"""Where every variable of a Magenta MusicVAE checkpoint lives in our Keras model.

The facts (SPEC_MODELS.md §A5): an LSTMBlockCell stores one ``kernel [n + u, 4u]`` whose rows are
``[x, h_prev]`` and one ``bias [4u]``, with gate blocks i, j (candidate), f, o and a forget bias of
1.0 added at run time. Our :class:`~musicvae_tf.layers.lstm_stack.LSTMStack` keeps ``kernel [n, 4u]`` and
``recurrent_kernel [u, 4u]`` in Keras's gate order i, f, c, o with the forget bias folded into
``bias``. Initial-state Dense outputs are split ``[c_0, h_0, c_1, h_1, ...]`` in Magenta and
``[h_0, c_0, ...]`` here. Magenta concatenates z (or the conductor's bar embedding) to every decoder
input after the token, so the first decoder kernel's rows are ``[token, z, h_prev]``; our first layer
kernel holds ``[token, z]`` and projects z once per sequence, which is the same product.

:func:`magenta_layout` lists, for a built model, each Magenta variable with its shape and the
:class:`Piece` of it that each Keras weight holds. Importing reads pieces out of Magenta arrays;
exporting writes them back, so one table serves both directions.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import numpy as np

from data_pipelines.errors import MusicVAEError

# Keras gate block k (i, f, c, o) is Magenta's block _GATE_BLOCKS[k] (i, j, f, o).
_GATE_BLOCKS = (0, 2, 1, 3)
FORGET_BIAS = 1.0


@dataclasses.dataclass(frozen=True)
class Piece:
    """The part of a Magenta variable one Keras weight holds: ``magenta[rows][..., columns] +
    offset``; ``rows`` is a slice or the Magenta row of each of the weight's rows, in order."""

    weight: Any  # a keras.Variable
    columns: np.ndarray
    rows: slice | np.ndarray = dataclasses.field(default_factory=lambda: slice(None))
    offset: np.ndarray | None = None

    def _index(self, shape: tuple[int, ...]):
        if len(shape) == 1:
            return self.columns
        rows = np.arange(shape[0])[self.rows] if isinstance(self.rows, slice) else self.rows
        return np.ix_(rows, self.columns)

    def from_magenta(self, value: np.ndarray) -> np.ndarray:
        """This piece of a Magenta array, in the Keras weight's layout (float32)."""
        value = np.asarray(value, np.float32)
        piece = value[self._index(value.shape)]
        return piece if self.offset is None else piece + self.offset

    def into_magenta(self, out: np.ndarray, value: np.ndarray) -> None:
        """Write the Keras weight's ``value`` into its place in the Magenta array ``out``."""
        value = np.asarray(value, np.float32)
        out[self._index(out.shape)] = value if self.offset is None else value - self.offset

    def shape_in(self, magenta_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape this piece takes out of a Magenta variable of ``magenta_shape``."""
        if len(magenta_shape) == 1:
            return (len(self.columns),)
        rows = (np.arange(magenta_shape[0])[self.rows] if isinstance(self.rows, slice)
                else self.rows)
        return (len(rows), len(self.columns))


@dataclasses.dataclass(frozen=True)
class MagentaVariable:
    """One Magenta checkpoint variable: its name, shape and the Keras weights that hold it."""

    name: str
    shape: tuple[int, ...]
    pieces: tuple[Piece, ...]


def magenta_layout(model) -> list[MagentaVariable]:
    """Every Magenta variable of a built :class:`~musicvae_tf.models.music_vae.model.MusicVAE`, encoder first."""
    encoder, decoder = model.encoder, model.decoder
    if model.encoder_kind == "hierarchical":
        # Magenta's hier-* encoder: level 0 reads each bar, level 1 the bar embeddings.
        layout = []
        for level, lstm in enumerate((encoder.lstm, encoder.top_lstm)):
            layout += _lstm_stack(lstm, lambda index, direction, level=level: (
                f"encoder/hierarchical_level_{level}/cell_{index}/bidirectional_rnn/{direction}"
                "/multi_rnn_cell/cell_0/lstm_cell"))
    else:
        layout = _lstm_stack(encoder.lstm, lambda index, direction: (
            f"encoder/cell_{index}/bidirectional_rnn/{direction}/multi_rnn_cell/cell_0/lstm_cell"))
    layout += _dense("encoder/mu", encoder.mu_layer)
    layout += _dense("encoder/sigma", encoder.sigma_layer)
    cores = [("decoder", decoder.lstm, decoder.initial_state_layer, decoder.output_layer)]
    if model.decoder_kind == "hierarchical":
        conductor = "decoder/hierarchical_level_0"
        layout += _dense(f"{conductor}/initial_state", decoder.conductor_initial_state_layer,
                         _state_columns(decoder.conductor_units))
        layout += _lstm_stack(decoder.conductor, lambda index, _: f"{conductor}/cell_{index}/lstm_cell")
        # One split: Magenta's core decoder is the categorical decoder itself; several: its
        # SplitMultiOutLstmDecoder names each core core_decoder_<k>.
        split = len(decoder.cores()) > 1
        cores = [(f"core_decoder/core_decoder_{k}/decoder" if split else "core_decoder/decoder",
                  *layers) for k, layers in enumerate(decoder.cores())]
    for prefix, lstm, initial_state_layer, output_layer in cores:
        layout += _dense(f"{prefix}/z_to_initial_state", initial_state_layer,
                         _state_columns(decoder.units))
        layout += _lstm_stack(lstm, lambda index, _, prefix=prefix: (
            f"{prefix}/multi_rnn_cell/cell_{index}/lstm_cell"), control_depth=decoder.control_depth)
        layout += _dense(f"{prefix}/output_projection", output_layer)
    return layout


def checkpoint_sizes(shapes: Mapping[str, tuple[int, ...]], decoder: str,
                     config_name: str) -> dict[str, Any]:
    """Model sizes read off Magenta variable shapes, as ``ModelConfig`` fields plus
    ``output_splits`` (the classes of each bar-decoder core: one entry unless the checkpoint has
    ``core_decoder_<k>`` cores; a flat multi-output decoder has one projection over all splits).

    ``decoder`` ("flat" or "hierarchical", from config ``config_name``) says which names to look
    for; a checkpoint of another family fails naming the first variable it lacks.
    """
    _refuse_other_families(shapes)
    shapes = _Shapes(shapes, config_name)
    if any(name.startswith("encoder/hierarchical_level_") for name in shapes.shapes):
        levels = [shapes.layer_units(lambda i, level=level: (
            f"encoder/hierarchical_level_{level}/cell_{i}/bidirectional_rnn/fw/multi_rnn_cell/"
            "cell_0/lstm_cell/bias")) for level in (0, 1)]
        if any(len(units) != 1 for units in levels):
            raise MusicVAEError("checkpoint's hierarchical encoder has more than one layer per "
                                "level, which this package does not build")
        sizes: dict[str, Any] = {"encoder": "hierarchical",
                                 "encoder_units": (levels[0][0], levels[1][0])}
    else:
        sizes = {"encoder": "flat", "encoder_units": shapes.layer_units(lambda i: (
            f"encoder/cell_{i}/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/bias"))}
    sizes["latent_dim"] = shapes.vector_size("encoder/mu/bias")
    prefixes = ["decoder"]
    if decoder == "hierarchical":
        sizes["conductor_units"] = shapes.layer_units(
            lambda i: f"decoder/hierarchical_level_0/cell_{i}/lstm_cell/bias")
        # A SplitMultiOutLstmDecoder (trio) has one core per output track, core_decoder_<k>.
        cores = 0
        while any(name.startswith(f"core_decoder/core_decoder_{cores}/") for name in shapes.shapes):
            cores += 1
        prefixes = ([f"core_decoder/core_decoder_{k}/decoder" for k in range(cores)]
                    or ["core_decoder/decoder"])
    else:
        sizes["conductor_units"] = ()
    sizes["decoder_units"] = shapes.layer_units(
        lambda i: f"{prefixes[0]}/multi_rnn_cell/cell_{i}/lstm_cell/bias")
    sizes["output_splits"] = tuple(shapes.vector_size(f"{prefix}/output_projection/bias")
                                   for prefix in prefixes)
    return sizes


def check_checkpoint(layout: list[MagentaVariable], shapes: Mapping[str, tuple[int, ...]],
                     config_name: str) -> None:
    """Fail on the first variable the model needs that is missing or mis-shaped, then on extras."""
    for variable in layout:
        if variable.name not in shapes:
            raise MusicVAEError(f"checkpoint has no variable {variable.name}, which config "
                                f"{config_name} needs")
        if tuple(shapes[variable.name]) != variable.shape:
            raise MusicVAEError(f"checkpoint variable {variable.name} has shape "
                                f"{list(shapes[variable.name])} but config {config_name} needs "
                                f"{list(variable.shape)}")
    extra = sorted(set(shapes) - {variable.name for variable in layout})
    if extra:
        raise MusicVAEError(f"checkpoint variable {extra[0]} has no place in config {config_name}'s "
                            f"model ({len(extra)} such variable(s)): it is another kind of model")


def _lstm_stack(stack, name: Callable[[int, str], str],
                control_depth: int = 0) -> list[MagentaVariable]:
    """An LSTM stack's variables. A decoder's first layer reads ``[tokens, controls, z]`` here and
    ``[tokens, z, controls]`` in Magenta: the rows of its first kernel are reordered."""
    layout = []
    for index, layer in enumerate(stack.cell_weights):
        for direction, (kernel, recurrent_kernel, bias) in zip(stack.directions, layer):
            inputs, units = int(kernel.shape[0]), int(recurrent_kernel.shape[0])
            columns = _gate_columns(units)
            offset = np.zeros(4 * units, np.float32)
            offset[units:2 * units] = FORGET_BIAS  # Keras's forget block
            prefix = name(index, direction)
            rows = slice(0, inputs)
            if index == 0 and control_depth:
                tokens = stack.input_dim - control_depth
                rows = np.concatenate([np.arange(tokens), np.arange(inputs - control_depth, inputs),
                                       np.arange(tokens, inputs - control_depth)])
            layout.append(MagentaVariable(f"{prefix}/kernel", (inputs + units, 4 * units), (
                Piece(kernel, columns, rows),
                Piece(recurrent_kernel, columns, slice(inputs, inputs + units)))))
            layout.append(MagentaVariable(f"{prefix}/bias", (4 * units,),
                                          (Piece(bias, columns, offset=offset),)))
    return layout


def _dense(name: str, layer, columns: np.ndarray | None = None) -> list[MagentaVariable]:
    inputs, outputs = (int(d) for d in layer.kernel.shape)
    columns = np.arange(outputs) if columns is None else columns
    return [MagentaVariable(f"{name}/kernel", (inputs, outputs), (Piece(layer.kernel, columns),)),
            MagentaVariable(f"{name}/bias", (outputs,), (Piece(layer.bias, columns),))]


def _gate_columns(units: int) -> np.ndarray:
    """Magenta column of each Keras gate column."""
    return np.concatenate([np.arange(block * units, (block + 1) * units) for block in _GATE_BLOCKS])


def _state_columns(layer_units) -> np.ndarray:
    """Magenta initial-state column (``[c_0, h_0, ...]``) of each of ours (``[h_0, c_0, ...]``)."""
    columns, start = [], 0
    for units in layer_units:
        columns += [np.arange(start + units, start + 2 * units), np.arange(start, start + units)]
        start += 2 * units
    return np.concatenate(columns)


class _Shapes:
    """Size look-ups in a checkpoint's shape map whose errors name the config that needs them."""

    def __init__(self, shapes: Mapping[str, tuple[int, ...]], config_name: str):
        self.shapes, self.config_name = shapes, config_name

    def layer_units(self, bias_name: Callable[[int], str]) -> tuple[int, ...]:
        """Units of layers 0, 1, ... for as long as their bias exists (at least one)."""
        units = []
        while bias_name(len(units)) in self.shapes or not units:
            size = self.vector_size(bias_name(len(units)))
            if size % 4:
                raise MusicVAEError(f"checkpoint variable {bias_name(len(units))} has {size} "
                                    f"entries, not 4 gates of equal size")
            units.append(size // 4)
        return tuple(units)

    def vector_size(self, name: str) -> int:
        """Length of the vector variable ``name``."""
        if name not in self.shapes:
            raise MusicVAEError(f"checkpoint has no variable {name}, which config "
                                f"{self.config_name} needs")
        shape = tuple(self.shapes[name])
        if len(shape) != 1:
            raise MusicVAEError(f"checkpoint variable {name} has shape {list(shape)} but config "
                                f"{self.config_name} needs a vector")
        return int(shape[0])


def _refuse_other_families(shapes: Mapping[str, tuple[int, ...]]) -> None:
    """One clear line for Magenta model families this package does not build."""
    families = (
        ("decoder/hierarchical_level_1/", "a decoder hierarchy of more than one level"),
    )
    for prefix, what in families:
        name = next((n for n in shapes if n.startswith(prefix)), None)
        if name is not None:
            raise MusicVAEError(f"checkpoint variable {name} belongs to {what}, which this package "
                                f"does not build yet")

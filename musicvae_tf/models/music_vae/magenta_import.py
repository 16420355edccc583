"""Import a Magenta MusicVAE checkpoint (TF1 or magenta-js) as a model directory of this package.

The model directory holds ``model.keras``, ``config.yaml`` and ``provenance.json`` (where the weights
came from), so every command and ``TrainedModel.load`` takes it like a finished training run. Sizes
are read off the checkpoint's variable shapes; where they differ from the named config the model
follows the checkpoint and the differences are reported.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import numpy as np

from data_pipelines.encodings import encoding_for
from data_pipelines.errors import MusicVAEError
from musicvae_tf.config import Config
from musicvae_tf.models.music_vae.magenta_checkpoint import open_checkpoint
from musicvae_tf.models.music_vae.magenta_layout import check_checkpoint, checkpoint_sizes, magenta_layout

PROVENANCE_FILE = "provenance.json"
# data.encoding -> the magenta-js data converter of the same windows.
_JS_CONVERTERS = {"melody": "MelodyConverter", "melody_chords": "MelodyConverter",
                  "drums": "DrumsConverter", "trio": "TrioConverter"}
_SIZE_FIELDS = ("encoder", "encoder_units", "latent_dim", "decoder_units", "conductor_units")


@dataclasses.dataclass(frozen=True)
class ImportedModel:
    """A Keras MusicVAE holding a Magenta checkpoint's weights, its config and where it came from."""

    model: Any
    config: Config
    differences: list[str]
    provenance: dict[str, Any]


def resolve_config(reader, config: Config) -> tuple[Config, list[str]]:
    """``config`` with the checkpoint's model sizes, and a ``field: config -> checkpoint`` line per change."""
    _check_js_config(reader.js_config, config)
    sizes = checkpoint_sizes(reader.shapes, config.model.decoder, config.name)
    splits = sizes.pop("output_splits")
    wanted = encoding_for(config.data).output_splits
    # One projection (a flat decoder) covers every split, so only the total can be compared.
    if (splits if len(splits) > 1 else sum(splits)) != (wanted if len(splits) > 1 else sum(wanted)):
        raise MusicVAEError(f"checkpoint predicts {_classes(splits)} token classes but config "
                            f"{config.name} has {_classes(wanted)} (data.encoding "
                            f"{config.data.encoding}, pitches {config.data.min_pitch}.."
                            f"{config.data.max_pitch})")
    _check_encoder_input(reader.shapes, config)
    current = {field: getattr(config.model, field) for field in _SIZE_FIELDS}
    differences = [f"model.{field}: {_show(current[field])} -> {_show(sizes[field])}"
                   for field in _SIZE_FIELDS if current[field] != sizes[field]]
    model = dataclasses.replace(config.model, **sizes)
    return dataclasses.replace(config, model=model), differences


def import_checkpoint(reader, config: Config) -> ImportedModel:
    """Build the model ``config`` (with the checkpoint's sizes) describes and load ``reader``'s weights."""
    from musicvae_tf.models.music_vae.model import build_model

    resolved, differences = resolve_config(reader, config)
    model = build_model(resolved)
    layout = magenta_layout(model)
    check_checkpoint(layout, reader.shapes, config.name)
    for variable in layout:
        value = reader.tensor(variable.name)
        for piece in variable.pieces:
            piece.weight.assign(piece.from_magenta(value))
    provenance = {
        "format": reader.format,
        "quantization": reader.quantization,
        "global_step": reader.global_step,
        "config": config.name,
        "sizes_differing_from_config": differences,
        "variables": len(layout),
        "parameters": int(sum(np.prod(v.shape) for v in layout)),
        "imported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    return ImportedModel(model, resolved, differences, provenance)


def import_magenta(checkpoint: str | Path, config: Config, out_dir: str | Path) -> ImportedModel:
    """Import ``checkpoint`` and write the model directory ``out_dir`` (which must be new or empty)."""
    from data_pipelines.io_utils import write_json
    from musicvae_tf.training.run_files import export_model, write_run_config

    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise MusicVAEError(f"{out_dir} already exists and is not an empty folder")
    with open_checkpoint(checkpoint) as reader:
        imported = import_checkpoint(reader, config)
    provenance = {"source": str(Path(checkpoint).resolve()), **imported.provenance}
    imported = dataclasses.replace(imported, provenance=provenance)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_run_config(imported.config, out_dir)
    write_json(out_dir / PROVENANCE_FILE, imported.provenance)
    export_model(imported.model, out_dir)
    return imported


def _check_js_config(js_config: dict | None, config: Config) -> None:
    """A magenta-js ``config.json`` must describe the same windows as ``config``: its converter
    type, step and segment counts, and pitch ranges (a trio's under ``melArgs``/``bassArgs``)."""
    if js_config is None:
        return
    converter = js_config.get("dataConverter") or {}
    kind, args = converter.get("type"), converter.get("args") or {}
    data = config.data
    expected = _JS_CONVERTERS.get(data.encoding)
    if kind != expected:
        raise MusicVAEError(f"magenta-js checkpoint uses a {kind} data converter but config "
                            f"{config.name} (data.encoding {data.encoding}) needs "
                            f"{expected or 'a converter magenta-js does not have'}")
    checks = [(args, {"numSteps": data.num_steps,
                      "numSegments": data.num_bars if config.model.decoder == "hierarchical"
                      else 0})]
    pitches = {"minPitch": data.min_pitch, "maxPitch": data.max_pitch}
    # A chord encoder, when named, must be the 49-class triads (the variable shapes decide else).
    chords = js_config.get("chordEncoder")
    wanted_chords = "TriadChordEncoder" if data.encoding == "melody_chords" else None
    if chords is not None and chords != wanted_chords:
        raise MusicVAEError(f"magenta-js config.json has chordEncoder {chords} but config "
                            f"{config.name} (data.encoding {data.encoding}) needs "
                            f"{wanted_chords or 'none'}")
    if data.encoding in ("melody", "melody_chords"):
        checks.append((args, pitches))
    elif data.encoding == "trio":
        checks += [(args.get("melArgs") or {}, pitches), (args.get("bassArgs") or {}, pitches)]
    for where, wanted in checks:
        for key, value in wanted.items():
            found = where.get(key, 0 if key == "numSegments" else None)
            if found is not None and int(found) != value:
                raise MusicVAEError(f"magenta-js config.json has {key} {found} but config "
                                    f"{config.name} needs {value}")


def _classes(splits) -> str:
    """``90`` for one split, ``90 + 90 + 512`` for several."""
    return " + ".join(str(size) for size in splits)


def _check_encoder_input(shapes, config: Config) -> None:
    """The encoder must read as many values per step as the config's encoding gives, so that a
    chord-conditioned checkpoint under a melody config (or the reverse) fails in words."""
    from data_pipelines.encodings import encoding_for

    kernels = sorted(n for n in shapes if n.startswith("encoder/")
                     and n.endswith("/fw/multi_rnn_cell/cell_0/lstm_cell/kernel"))
    if not kernels or len(shapes[kernels[0]]) != 2:
        return
    rows, columns = (int(d) for d in shapes[kernels[0]])
    found, encoding = rows - columns // 4, encoding_for(config.data)
    wanted = encoding.encoder_input_depth
    if found == wanted:
        return
    hint = ""
    if found - wanted == 49:
        hint = ": it is chord-conditioned, use a config with data.encoding melody_chords " \
               "(cat-mel_2bar_med_chords)"
    elif wanted - found == encoding.control_depth:
        hint = f": it has no controls, which config {config.name}'s encoding needs"
    raise MusicVAEError(f"checkpoint's encoder reads {found} values per step, {abs(found - wanted)} "
                        f"{'more' if found > wanted else 'fewer'} than config {config.name}'s "
                        f"{wanted} (data.encoding {encoding.name}){hint}")


def _show(value) -> str:
    return str(list(value)) if isinstance(value, (list, tuple)) else str(value)

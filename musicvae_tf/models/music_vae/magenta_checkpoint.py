"""Reading Magenta MusicVAE checkpoints without Magenta: TF1 checkpoints and magenta-js weights.

:func:`open_checkpoint` accepts what users have on disk: a released ``.tar``, a folder with a
``checkpoint`` state file (or a single ``*.index``), a checkpoint prefix (``model.ckpt-NNNN``), or a
magenta-js folder (``weights_manifest.json`` + shards, float32 or 1-/2-byte quantised). Every reader
exposes the model variables only: optimizer slots, ``beta*_power`` and ``global_step`` are left out.
"""

from __future__ import annotations

import contextlib
import json
import re
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from data_pipelines.errors import MusicVAEError

MANIFEST_FILE = "weights_manifest.json"
# Training state a TF1 trainer saves beside the model variables.
_TRAINING_STATE = re.compile(r"(^|/)(Adam(_\d+)?|beta\d_power|global_step)$")
_SHARD_SUFFIX = re.compile(r"\.(index|data-\d+-of-\d+)$")
# tfjs weight encodings: bytes per value and numpy dtype of the stored numbers.
_STORED_DTYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8,
                  "uint16": np.uint16, "float16": np.float16}


def is_training_state(name: str) -> bool:
    """True for optimizer slots, ``beta1_power``/``beta2_power`` and ``global_step``."""
    return bool(_TRAINING_STATE.search(name))


class Tf1Checkpoint:
    """A TF1 (``.index`` + ``.data``) checkpoint read with ``tf.train.load_checkpoint``."""

    format = "tf1"

    def __init__(self, prefix: str | Path):
        import tensorflow as tf

        self._prefix = prefix
        try:
            self._reader = tf.train.load_checkpoint(str(prefix))
        except (tf.errors.OpError, ValueError) as exc:
            raise MusicVAEError(f"cannot read checkpoint {prefix}: {_first_line(exc)}") from None
        everything = self._reader.get_variable_to_shape_map()
        self.shapes = {name: tuple(int(d) for d in shape) for name, shape in sorted(everything.items())
                       if not is_training_state(name)}
        self.global_step = int(self.tensor("global_step")) if "global_step" in everything else None
        self.js_config = None
        self.quantization: list[str] = []

    def tensor(self, name: str) -> np.ndarray:
        """The stored value of variable ``name``."""
        import tensorflow as tf

        try:
            return np.asarray(self._reader.get_tensor(name))
        except (tf.errors.OpError, IndexError, ValueError) as exc:  # IndexError: a truncated .data file
            raise MusicVAEError(f"cannot read {name} from checkpoint {self._prefix}: "
                                f"{_first_line(exc)}") from None


class MagentaJsCheckpoint:
    """A magenta-js checkpoint: ``weights_manifest.json``, its shards and an optional ``config.json``."""

    format = "magenta-js"

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        manifest = _read_json(folder / MANIFEST_FILE)
        self._entries: dict[str, tuple[bytes, int, dict]] = {}
        self.quantization = []
        try:
            for group in manifest:
                data = b"".join(_read_shard(folder / shard) for shard in group["paths"])
                offset = 0
                for weight in group["weights"]:
                    size = _weight_nbytes(weight)
                    self._entries[weight["name"]] = (data, offset, weight)
                    offset += size
                    if "quantization" in weight:
                        self.quantization.append(weight["quantization"]["dtype"])
                if offset != len(data):
                    raise MusicVAEError(f"{folder / MANIFEST_FILE}: shards {group['paths']} hold "
                                        f"{len(data)} bytes but their weights need {offset}")
        except (KeyError, TypeError) as exc:
            raise MusicVAEError(f"{folder / MANIFEST_FILE} is not a tfjs weights manifest "
                                f"({type(exc).__name__}: {exc})") from None
        self.quantization = sorted(set(self.quantization))
        self.shapes = {name: tuple(int(d) for d in entry[2]["shape"])
                       for name, entry in sorted(self._entries.items()) if not is_training_state(name)}
        config_path = folder / "config.json"
        self.js_config = _read_json(config_path) if config_path.is_file() else None
        self.global_step = None

    def tensor(self, name: str) -> np.ndarray:
        """The value of ``name`` as float32 (quantised weights are dequantised as tfjs does)."""
        data, offset, weight = self._entries[name]
        quantization = weight.get("quantization")
        stored = _STORED_DTYPES[(quantization or weight)["dtype"]]
        count = int(np.prod(weight["shape"], dtype=np.int64))
        values = np.frombuffer(data, dtype=np.dtype(stored).newbyteorder("<"), count=count,
                               offset=offset)
        if quantization and quantization["dtype"] in ("uint8", "uint16"):
            # value = min + scale * q, computed in double precision then stored as float32.
            values = quantization["min"] + quantization["scale"] * values.astype(np.float64)
        dtype = np.int32 if weight["dtype"] == "int32" else np.float32
        return values.astype(dtype).reshape(weight["shape"])


@contextlib.contextmanager
def open_checkpoint(path: str | Path) -> Iterator[Tf1Checkpoint | MagentaJsCheckpoint]:
    """Open any supported checkpoint location; a ``.tar`` is unpacked into a temporary folder."""
    path = Path(path)
    if path.is_file() and tarfile.is_tarfile(path):
        with tempfile.TemporaryDirectory(prefix="magenta-ckpt-") as scratch:
            try:
                with tarfile.open(path) as archive:
                    archive.extractall(scratch, filter="data")
            except (tarfile.TarError, OSError) as exc:
                raise MusicVAEError(f"cannot unpack {path}: {exc}") from None
            yield _open_unpacked(Path(scratch), path)
        return
    yield _open_location(path)


def _open_location(path: Path) -> Tf1Checkpoint | MagentaJsCheckpoint:
    if path.name == MANIFEST_FILE and path.is_file():
        return MagentaJsCheckpoint(path.parent)
    if path.is_dir():
        if (path / MANIFEST_FILE).is_file():
            return MagentaJsCheckpoint(path)
        return Tf1Checkpoint(_prefix_in_folder(path))
    prefix = Path(_SHARD_SUFFIX.sub("", str(path)))
    if Path(f"{prefix}.index").is_file():
        return Tf1Checkpoint(prefix)
    if not path.exists():
        raise MusicVAEError(f"checkpoint not found: {path} (no such file or folder, no {prefix}.index)")
    raise MusicVAEError(f"{path} is not a checkpoint: give a Magenta .tar, a folder with a "
                        f"`checkpoint` file, a checkpoint prefix or a magenta-js folder")


def _open_unpacked(folder: Path, archive: Path) -> Tf1Checkpoint | MagentaJsCheckpoint:
    """The one checkpoint inside an unpacked archive."""
    manifests = sorted(folder.rglob(MANIFEST_FILE))
    indexes = sorted(folder.rglob("*.index"))
    found = [m.parent for m in manifests] + [Path(str(i)[:-len(".index")]) for i in indexes]
    if len(found) != 1:
        names = ", ".join(str(f.relative_to(folder)) for f in found) or "none"
        raise MusicVAEError(f"{archive} must hold exactly one checkpoint, found: {names}")
    return _open_location(manifests[0] if manifests else found[0])


def _prefix_in_folder(folder: Path) -> Path:
    """The checkpoint a folder's ``checkpoint`` state file names, else its only ``*.index``."""
    state_file = folder / "checkpoint"
    if state_file.is_file():
        match = re.search(r'^model_checkpoint_path:\s*"(.*)"\s*$', state_file.read_text(), re.M)
        if match:
            named = Path(match.group(1))
            # Trainers write absolute paths; after a move the file sits beside the state file.
            for prefix in (named if named.is_absolute() else folder / named, folder / named.name):
                if Path(f"{prefix}.index").is_file():
                    return prefix
            raise MusicVAEError(f"{state_file} names {named}, which is not in {folder}")
    indexes = sorted(folder.glob("*.index"))
    if len(indexes) == 1:
        return Path(str(indexes[0])[:-len(".index")])
    if not indexes:
        raise MusicVAEError(f"{folder} holds no checkpoint (no `checkpoint` file, *.index or "
                            f"{MANIFEST_FILE})")
    raise MusicVAEError(f"{folder} holds {len(indexes)} checkpoints; give the prefix of one")


def _weight_nbytes(weight: dict) -> int:
    encoding = (weight.get("quantization") or weight)["dtype"]
    if encoding not in _STORED_DTYPES:
        raise MusicVAEError(f"weight {weight['name']}: unsupported tfjs dtype {encoding!r}")
    count = int(np.prod(weight["shape"], dtype=np.int64))
    return count * np.dtype(_STORED_DTYPES[encoding]).itemsize


def _read_shard(path: Path) -> bytes:
    if not path.is_file():
        raise MusicVAEError(f"magenta-js shard missing: {path}")
    return path.read_bytes()


def _read_json(path: Path):
    if not path.is_file():
        raise MusicVAEError(f"file not found: {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MusicVAEError(f"{path} is not valid JSON: {exc}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

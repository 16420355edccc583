"""Named experiment configurations: YAML files with data, model and training sections.

A config is looked up by name in the bundled ``configs/`` folder (``cat-mel_2bar_small``) or read
from a YAML path. ``--set section.key=value`` overrides any field; values are parsed as YAML, so
``--set model.encoder_units=[64]`` and ``--set training.free_bits=48`` both work.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import math
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from data_pipelines.data_config import DataConfig
from data_pipelines.errors import UsageError
from musicvae_tf.models.music_vae.config import ModelConfig
from musicvae_tf.models.registry import (DEFAULT_FAMILY, FAMILIES, all_section_names,
                                         family_sections)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Optimisation, schedules and bookkeeping (SPEC §4)."""

    batch_size: int = 512
    num_steps: int = 200_000
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    decay_rate: float = 0.9999
    max_beta: float = 0.2
    beta_rate: float = 0.99999
    free_bits: float = 0.0
    clip_norm: float = 1.0
    skip_norm: float = 1e4
    # Steps over which the posterior noise ramps from 0 to its full scale (0: full from the start).
    latent_noise_warmup_steps: int = 0
    # Share of teacher-forcing input tokens replaced by "no input" during training (word
    # dropout); 0 is Magenta's behaviour.
    token_dropout: float = 0.0
    sampling_schedule: str = "none"  # "none" or "inverse_sigmoid"
    sampling_rate: float = 1000.0
    checkpoint_every: int = 1000
    summary_every: int = 100
    # From this step on, a summary whose held-out diagnostics show posterior collapse (no active
    # unit, or a z-shuffle gap under 1 point) prints a warning.
    collapse_warmup_steps: int = 2000
    keep_checkpoints: int = 3
    # Compile each step's forward and backward pass with XLA (bench/train_throughput.py measures
    # whether it pays on a model and machine).
    jit_compile: bool = False
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Config:
    """A complete named configuration: the model family (``musicvae_tf.models.registry``), the
    data, model and training sections, and the family's own typed sections (``sections``, by
    name, e.g. inpainting's ``latent_rnn``)."""

    name: str
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    family: str = DEFAULT_FAMILY
    sections: dict[str, Any] = dataclasses.field(default_factory=dict)

    def section(self, name: str) -> Any:
        """The family section ``name`` (a dataclass), or None when the config has none."""
        return self.sections.get(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, suitable for YAML/JSON (``family`` only when not the default)."""
        out: dict[str, Any] = {"name": self.name}
        if self.family != DEFAULT_FAMILY:
            out["family"] = self.family
        for section in ("data", "model", "training"):
            out[section] = _plain(dataclasses.asdict(getattr(self, section)))
        for section, values in self.sections.items():
            out[section] = _plain(dataclasses.asdict(values))
        return out

    def with_overrides(self, overrides: list[str] | None) -> "Config":
        """Apply ``section.key=value`` strings and return a new validated config.

        Unknown sections or fields, a section set to a scalar and values of the wrong type raise
        a one-line UsageError (with a "did you mean" hint for misspelt names).
        """
        raw = self.to_dict()
        for item in overrides or []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise UsageError(f"--set expects section.key=value, got {item!r}")
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                raise UsageError(f"--set {item}: the value is not valid YAML") from None
            _set_path(raw, key.strip(), parsed)
        return config_from_dict(raw)


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "training": TrainingConfig}


def _known_sections() -> tuple[str, ...]:
    return (*_SECTIONS, *all_section_names())


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _set_path(raw: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    if len(parts) < 2 or not all(parts):
        raise UsageError(f"--set {dotted}=...: name a field as section.key, e.g. data.num_bars "
                         f"(sections: {', '.join(_known_sections())})")
    section, *inner, field = parts
    if section not in _known_sections():
        raise UsageError(f"--set {dotted}: unknown section {section!r}"
                         f"{_did_you_mean(section, _known_sections())}")
    classes = {**_SECTIONS, **family_sections(str(raw.get("family", DEFAULT_FAMILY)))}
    if section in classes:
        names = [f.name for f in dataclasses.fields(classes[section])]
        if inner or field not in names:
            raise UsageError(f"--set {dotted}: unknown {section} field {'.'.join([*inner, field])!r}"
                             f"{_did_you_mean(field, names)}")
    node = raw
    for part in [section, *inner]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UsageError(f"--set {dotted}: {part!r} is not a section")
        node = child
    node[field] = value


def _did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else f" (choose from {', '.join(choices)})"


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against the field's type and convert it: "1e-6" to float, 3.0 to int, lists
    to tuples. A wrong type raises UsageError naming the field."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else ()
    if options:
        if value is None and type(None) in options:
            return None
        hint = next(option for option in options if option is not type(None))
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)):
            raise UsageError(f"{where} must be a list such as [{value}], got {value!r}")
        element = next(a for a in typing.get_args(hint) if a is not Ellipsis)
        return tuple(_coerce(v, element, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else _build_section(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is float:
        if not _is_number(value):
            raise UsageError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if not _is_number(value) or not math.isfinite(float(value)) or float(value) != int(float(value)):
            raise UsageError(f"{where} must be a whole number, got {value!r}")
        return int(float(value))
    if hint is str and not isinstance(value, str):
        raise UsageError(f"{where} must be a string, got {value!r}")
    return value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _build_section(cls: type, values: dict[str, Any] | None, section: str) -> Any:
    if values is not None and not isinstance(values, dict):
        raise UsageError(f"config section {section} must be a mapping of fields, got {values!r}")
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UsageError(f"unknown {section} field(s): {', '.join(map(str, unknown))}"
                         f"{_did_you_mean(str(unknown[0]), list(fields))}")
    hints = typing.get_type_hints(cls)
    for key, value in values.items():
        values[key] = _coerce(value, hints[key], f"{section}.{key}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise UsageError(f"bad {section} section: {exc}") from None


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Build and validate a Config from a nested dict (as read from YAML)."""
    if not isinstance(raw, dict):
        raise UsageError("a config file must hold a mapping")
    name = str(raw.get("name", "unnamed"))
    family = _family_of(raw, name)
    own = family_sections(family)
    known = (*_SECTIONS, *own)
    unknown = sorted(str(k) for k in raw if k not in ("name", "family") and k not in known)
    if unknown:
        raise UsageError(f"config {name}: unknown section {unknown[0]!r} for family {family}"
                         f"{_did_you_mean(unknown[0], known)}")
    sections = {key: _build_section(cls, raw.get(key), key) for key, cls in _SECTIONS.items()}
    family_values = {key: _build_section(cls, raw.get(key), key) for key, cls in own.items()
                     if key in raw}
    config = Config(name=name, family=family, sections=family_values, **sections)
    _validate(config)
    for values in family_values.values():
        validate = getattr(values, "validate", None)
        if validate is not None:
            validate(config)
    return config


def _family_of(raw: dict[str, Any], name: str) -> str:
    """The ``family:`` of a raw config. A config written before ``family:`` existed that holds
    a ``latent_rnn`` section is an inpainting config (run dirs and shipped models keep loading)."""
    family = raw.get("family")
    if family is None:
        return "inpainting" if "latent_rnn" in raw else DEFAULT_FAMILY
    if family not in FAMILIES:
        raise UsageError(f"config {name}: unknown family {family!r}"
                         f"{_did_you_mean(str(family), FAMILIES)}")
    return str(family)


def _validate(config: Config) -> None:
    from data_pipelines.encodings import ENCODINGS

    data, model, training = config.data, config.model, config.training
    if data.encoding not in ENCODINGS:
        raise UsageError(f"config {config.name}: unknown data.encoding {data.encoding!r}"
                         f"{_did_you_mean(data.encoding, ENCODINGS)}")
    floats = {f"training.{f.name}": getattr(training, f.name) for f in dataclasses.fields(training)
              if isinstance(getattr(training, f.name), float)}
    checks = [
        (data.num_bars >= 1, "data.num_bars must be >= 1"),
        (data.steps_per_quarter >= 1, "data.steps_per_quarter must be >= 1"),
        (data.steps_per_bar >= 1, "data.steps_per_bar must be >= 1"),
        (0 <= data.min_pitch <= data.max_pitch <= 127, "data pitch range must lie in 0..127"),
        (data.programs is None or (len(data.programs) == 2
                                   and 0 <= data.programs[0] <= data.programs[1] <= 127),
         "data.programs must be [low, high] within 0..127, or null"),
        (data.gap_bars >= 0, "data.gap_bars must be >= 0"),
        (data.max_bars is None or data.max_bars >= data.num_bars,
         "data.max_bars must be null or at least data.num_bars"),
        (data.max_windows_per_piece >= 0, "data.max_windows_per_piece must be >= 0"),
        (len(data.transpose_range) == 2 and data.transpose_range[0] <= data.transpose_range[1],
         "data.transpose_range must be [low, high]"),
        (0 <= data.eval_fraction and 0 <= data.test_fraction
         and data.eval_fraction + data.test_fraction < 1, "split fractions must sum below 1"),
        (model.decoder in ("flat", "hierarchical"), "model.decoder must be flat or hierarchical"),
        (model.encoder in ("flat", "hierarchical"), "model.encoder must be flat or hierarchical"),
        (model.encoder != "hierarchical" or len(model.encoder_units) == 2,
         "a hierarchical encoder has two levels: model.encoder_units must list 2 sizes "
         "(per bar, over the bars)"),
        (len(model.encoder_units) >= 1 and len(model.decoder_units) >= 1,
         "model needs at least one encoder and one decoder layer"),
        (all(units >= 1 for units in model.encoder_units + model.decoder_units
             + model.conductor_units), "model layer sizes (*_units) must all be >= 1"),
        (model.decoder != "hierarchical" or len(model.conductor_units) >= 1,
         "a hierarchical decoder needs model.conductor_units"),
        (model.latent_dim >= 1, "model.latent_dim must be >= 1"),
        (model.bar_latent_dim >= 0, "model.bar_latent_dim must be >= 0"),
        (model.bar_latent_dim == 0 or model.decoder == "hierarchical",
         "model.bar_latent_dim needs model.decoder hierarchical"),
        (not model.linear_skip or (model.bar_latent_dim > 0 and model.encoder == "hierarchical"),
         "model.linear_skip needs model.bar_latent_dim and model.encoder hierarchical"),
        (model.lstm_impl in ("auto", "fused", "keras"),
         "model.lstm_impl must be auto, fused or keras"),
        (math.isfinite(model.mu_batch_norm) and model.mu_batch_norm >= 0,
         "model.mu_batch_norm must be >= 0"),
        (all(math.isfinite(v) for v in floats.values()), "training values must be finite numbers"),
        (training.batch_size >= 1, "training.batch_size must be >= 1"),
        (training.num_steps >= 0, "training.num_steps must be >= 0"),
        (training.checkpoint_every >= 1, "training.checkpoint_every must be >= 1"),
        (training.summary_every >= 1, "training.summary_every must be >= 1"),
        (training.keep_checkpoints >= 1, "training.keep_checkpoints must be >= 1"),
        (training.collapse_warmup_steps >= 0, "training.collapse_warmup_steps must be >= 0"),
        (0 <= training.seed < 2**31, "training.seed must be in 0..2147483647"),
        (0.0 <= training.token_dropout < 1.0, "training.token_dropout must be in [0, 1)"),
        (training.latent_noise_warmup_steps >= 0, "training.latent_noise_warmup_steps must be >= 0"),
        (training.token_dropout == 0 or training.sampling_schedule == "none",
         "training.token_dropout needs training.sampling_schedule none"),
        (training.sampling_schedule in ("none", "inverse_sigmoid"),
         "training.sampling_schedule must be none or inverse_sigmoid"),
        (training.sampling_rate > 0, "training.sampling_rate must be positive"),
        (training.learning_rate > 0, "training.learning_rate must be positive"),
        (0 < training.min_learning_rate <= training.learning_rate,
         "training.min_learning_rate must be positive and at most training.learning_rate"),
        (0 < training.decay_rate <= 1, "training.decay_rate must be in (0, 1]"),
        (0 <= training.beta_rate <= 1, "training.beta_rate must be in [0, 1]"),
        (training.max_beta >= 0 and training.free_bits >= 0,
         "training.max_beta and training.free_bits must be >= 0"),
        (training.clip_norm > 0 and training.skip_norm > 0,
         "training.clip_norm and training.skip_norm must be positive"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(f"config {config.name}: {message}")


def available_configs() -> list[str]:
    """Names of the bundled configs."""
    root = importlib.resources.files("musicvae_tf.configs")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def load_config(name_or_path: str | Path, overrides: list[str] | None = None) -> Config:
    """Load a bundled config by name or a YAML file by path, then apply ``overrides``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UsageError(f"config file not found: {path}")
        text = path.read_text()
    else:
        resource = importlib.resources.files("musicvae_tf.configs") / f"{name_or_path}.yaml"
        if not resource.is_file():
            names = ", ".join(available_configs())
            raise UsageError(f"unknown config {str(name_or_path)!r}; choose one of: {names}")
        text = resource.read_text()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"config {name_or_path} is not valid YAML: {exc}") from None
    return config_from_dict(raw).with_overrides(overrides)

"""Config loading: bundled names, YAML paths, --set overrides and one-line errors."""

import pytest

from musicvae_tf.config import load_config
from data_pipelines.errors import UsageError


def test_overrides_are_parsed_and_coerced_to_field_types():
    config = load_config(
        "cat-mel_2bar_small",
        ["training.skip_norm=1e-6", "training.batch_size=64.0", "model.encoder_units=[32, 16]",
         "data.programs=null"],
    )
    assert config.training.skip_norm == pytest.approx(1e-6)
    assert isinstance(config.training.skip_norm, float)
    assert config.training.batch_size == 64 and isinstance(config.training.batch_size, int)
    assert config.model.encoder_units == (32, 16)
    assert config.data.programs is None
    assert config.data.num_classes == 90 and config.data.num_steps == 32


def test_yaml_path_and_round_trip(tmp_path):
    original = load_config("hierdec-mel_16bar", ["training.batch_size=8"])
    import yaml

    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(original.to_dict()))
    assert load_config(str(path)) == original


@pytest.mark.parametrize(
    "name, overrides, message",
    [
        ("no-such-config", [], "unknown config"),
        ("missing.yaml", [], "config file not found"),
        ("cat-mel_2bar_small", ["training.bogus=1"], "unknown training field"),
        ("cat-mel_2bar_small", ["training.batch_size"], "section.key=value"),
        ("cat-mel_2bar_small", ["training.batch_size=2.5"], "whole number"),
        ("cat-mel_2bar_small", ["model.decoder=transformer"], "flat or hierarchical"),
        ("cat-mel_2bar_small", ["data.eval_fraction=0.6", "data.test_fraction=0.6"], "sum below 1"),
    ],
)
def test_bad_configs_raise_one_line_usage_errors(name, overrides, message):
    with pytest.raises(UsageError, match=message) as info:
        load_config(name, overrides)
    assert "\n" not in str(info.value)

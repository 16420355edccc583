"""The installed package must contain every subpackage and the bundled configs."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("musicvae_tf", "data_pipelines")
        for init in (ROOT / top).rglob("__init__.py")
    }
    found.add("musicvae_tf.configs")  # mapped from the top-level configs/ folder
    assert found == listed


def test_bundled_configs_are_reachable_by_name():
    from musicvae_tf.config import available_configs, load_config

    names = available_configs()
    for required in ("cat-mel_2bar_small", "cat-mel_2bar_big", "flat-mel_16bar", "hierdec-mel_16bar"):
        assert required in names
    assert load_config("hierdec-mel_16bar").model.decoder == "hierarchical"

"""Shipped models are found by name everywhere a model is taken, and the ones in the package load
and make melodies."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from generation_support import trained_run_dir
from musicvae_tf import pretrained
from musicvae_tf.cli import main
from data_pipelines.errors import MusicVAEError
from musicvae_tf.trained_model import TrainedModel

SHIPPED = ("folk-mel_2bar", "folk-hierdec-mel_16bar", "folk-inpaint", "bach-pianotree_2bar")
# Two tunes of the folk models' held-out test split (the Makefile's TUNE_A and TUNE_B).
HELD_OUT = ("music21:oneills1850/1556-1624.abc#9", "music21:oneills1850/1625-1700.abc#25")


@pytest.fixture
def shipped_root(tmp_path, monkeypatch):
    """A pretrained folder holding the tiny test model under the name ``tiny-folk``."""
    root = tmp_path / "pretrained"
    shutil.copytree(trained_run_dir(), root / "tiny-folk")
    monkeypatch.setattr(pretrained, "pretrained_root", lambda: root)
    return root


def test_a_shipped_name_resolves_and_paths_win(shipped_root, tmp_path, monkeypatch):
    assert pretrained.shipped_models() == ["tiny-folk"]
    assert pretrained.resolve_model("tiny-folk") == shipped_root / "tiny-folk"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny-folk").mkdir()  # a folder of that name in the working dir is taken as given
    assert pretrained.resolve_model("tiny-folk").resolve() == tmp_path / "tiny-folk"
    with pytest.raises(MusicVAEError, match="shipped models: tiny-folk"):
        pretrained.resolve_model("no-such-model")


def test_load_sample_and_evaluate_by_name(shipped_root, tmp_path, capsys):
    model = TrainedModel.load("tiny-folk")
    assert model.model_path == shipped_root / "tiny-folk" / "model.keras"
    tokens = model.decode_tokens(model.sample_latents(2, seed=1), temperature=0.5, seed=1)
    assert np.asarray(tokens).shape == (2, model.data_config.num_steps)
    out = tmp_path / "samples"
    assert main(["sample", "--model", "tiny-folk", "--num-outputs", "2", "--seed", "1",
                 "--no-wav", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.mid")) == ["sample_00.mid", "sample_01.mid"]


def test_the_package_ships_the_folk_models_and_each_loads():
    assert set(SHIPPED) <= set(pretrained.shipped_models())
    for name in SHIPPED:
        folder = pretrained.resolve_model(name)
        card = (folder / "MODEL_CARD.md").read_text()
        assert ("oneills1850" in card and "airdsAirs" in card) or "bach" in card
        assert (folder / "eval_test.json").is_file()
    model = TrainedModel.load("folk-mel_2bar")
    tokens = np.asarray(model.decode_tokens(model.sample_latents(4, seed=0), temperature=0.5,
                                            seed=0))
    assert tokens.shape == (4, 32) and (tokens >= 2).any(axis=1).all()  # every sample has notes
    total = sum(f.stat().st_size for name in SHIPPED
                for f in pretrained.resolve_model(name).iterdir())
    assert total < 60 * 2**20


def test_the_16_bar_model_reconstructs_held_out_tunes_and_interpolates_from_one_to_the_other():
    from musicvae_tf.piece_inputs import load_piece_sequence

    model = TrainedModel.load("folk-hierdec-mel_16bar")
    a, b = (load_piece_sequence(piece) for piece in HELD_OUT)
    path = model.interpolate_tokens(a, b, num_steps=5, temperature=0.0, seed=0)
    tokens = np.asarray(path.tokens)
    to_a = (tokens == np.asarray(path.start.tokens)).mean(axis=1)
    to_b = (tokens == np.asarray(path.end.tokens)).mean(axis=1)
    assert to_a[0] > 0.8 and to_b[-1] > 0.8, (to_a, to_b)  # starts and ends on its inputs
    assert to_a[-1] < to_a[0] - 0.2 and to_b[0] < to_b[-1] - 0.2  # and moves between them


def test_the_recipe_trains_the_16_bar_model_on_the_inpainting_models_bar_level(tmp_path):
    from musicvae_tf.pretrained import recipe

    model = recipe.MODELS["folk-hierdec-mel_16bar"]
    command = recipe.train_command(model, tmp_path, 90, "float32")
    bar_model = (tmp_path / "runs" / "folk-inpaint").resolve()
    assert f"curriculum.bar_model={bar_model}" in command
    assert command[command.index("--minutes") + 1] == "40"  # its own budget, not --minutes
    assert "--set" not in recipe.train_command(recipe.MODELS["folk-mel_2bar"], tmp_path, 90,
                                               "float32")
    with pytest.raises(SystemExit, match="builds on folk-inpaint: train that one first"):
        recipe.train(tmp_path, ["folk-hierdec-mel_16bar"], 90, "float32")

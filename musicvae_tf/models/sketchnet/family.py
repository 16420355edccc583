"""The sketchnet family's hooks: train the stages in sequence (the SketchVAE in
``RUN/sketch_vae`` unless ``sketchnet.vae_run`` names one, the inpainter in ``RUN/inpainter``,
the connector in ``RUN``), evaluate by 6/4/6 inpainting, check a loaded model.

``RUN/model.keras`` holds all three parts, so ``RUN`` alone serves ``inpaint`` and
``evaluate-inpainting``. ``--minutes`` is a budget per stage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from data_pipelines.errors import MusicVAEError

KERAS_MODULES = ("musicvae_tf.models.sketchnet.inpainter", "musicvae_tf.models.sketchnet.connector",
                 "musicvae_tf.models.sketchnet.model")
VAE_DIR = "sketch_vae"
INPAINTER_DIR = "inpainter"


def check_model(model, config, model_path: str | Path) -> None:
    """Refuse a model whose window or latent sizes differ from the ``config.yaml`` beside it."""
    from musicvae_tf.models.sketchnet.config import sketchnet_settings

    settings = sketchnet_settings(config)
    if getattr(model, "connector", None) is None or model.connector.d_model != settings.d_model \
            or model.vae.steps_per_bar != config.data.steps_per_bar:
        raise MusicVAEError(f"{model_path} does not match the config.yaml beside it")


def restore_checkpoint(config, checkpoint: str):
    """A SketchNet run is used from its exported ``model.keras`` only."""
    raise MusicVAEError(f"{checkpoint}: a sketchnet run is loaded from its model.keras; let "
                        "training finish (or stop it cleanly) first")


def vae_stage_config(config):
    """The sketch_vae config stage 0 trains under (``sketchnet.vae_config``, this data)."""
    from musicvae_tf.config import load_config
    from musicvae_tf.models.sketchnet.config import sketchnet_settings

    vae_config = load_config(sketchnet_settings(config).vae_config)
    if vae_config.family != "sketch_vae":
        raise MusicVAEError(f"sketchnet.vae_config {vae_config.name} is not a sketch_vae config")
    return dataclasses.replace(vae_config, data=config.data)


def _with_vae_run(config, vae_run: Path):
    from musicvae_tf.models.sketchnet.config import sketchnet_settings

    section = dataclasses.replace(sketchnet_settings(config), vae_run=str(vae_run.resolve()))
    return dataclasses.replace(config, sections={**config.sections, "sketchnet": section})


def train(config, data_dir, run_dir, *, steps=None, **options) -> int:
    """Train (or resume) every stage that is not finished; the exit code."""
    from musicvae_tf.cli.run_options import SIGNAL_EXIT_CODES
    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.models.music_vae.task import vae_dataset_fn
    from musicvae_tf.models.sketch_vae.family import report
    from musicvae_tf.models.sketch_vae.family import train as train_vae
    from musicvae_tf.models.sketchnet.config import sketchnet_settings
    from musicvae_tf.models.sketchnet.model import build_sketchnet
    from musicvae_tf.models.sketchnet.task import ConnectorTask, InpainterTask
    from musicvae_tf.training.run_files import MODEL_FILE
    from musicvae_tf.training.trainer import train as run_trainer

    settings = sketchnet_settings(config)
    run_dir = Path(run_dir)
    vae_run = Path(settings.vae_run) if settings.vae_run else run_dir / VAE_DIR
    if not settings.vae_run:
        code = train_vae(vae_stage_config(config), data_dir, vae_run, **options)
        if code:
            return code
    if not (vae_run / MODEL_FILE).is_file():
        raise MusicVAEError(f"no SketchVAE at {vae_run / MODEL_FILE}: train it first")
    config = _with_vae_run(config, vae_run)

    def inpainter_task():
        return InpainterTask(build_sketchnet(config, load_keras_file(vae_run / MODEL_FILE,
                                                                     "SketchVAE")), config)

    result = run_trainer(inpainter_task, vae_dataset_fn(data_dir, config),
                         run_dir / INPAINTER_DIR, config, steps=steps, **options)
    report("SketchInpainter", result, ("accuracy",))
    if result.stop_reason in SIGNAL_EXIT_CODES:
        return SIGNAL_EXIT_CODES[result.stop_reason]
    stage2 = dataclasses.replace(config, training=dataclasses.replace(
        config.training, num_steps=settings.connector_steps))
    stage1_model = run_dir / INPAINTER_DIR / MODEL_FILE
    result = run_trainer(lambda: ConnectorTask(load_keras_file(stage1_model, "SketchInpainter"),
                                               stage2),
                         vae_dataset_fn(data_dir, stage2), run_dir, stage2, **options)
    report("SketchConnector", result, ("accuracy", "sketch_given"))
    return SIGNAL_EXIT_CODES.get(result.stop_reason, 0)


def evaluate(args, run_dir: Path, out: Path) -> int:
    """``musicvae-tf evaluate`` of a sketchnet run: 6/4/6 inpainting of the split with and
    without true sketches (the table of ``evaluate-inpainting --sketchnet``); JSON."""
    from data_pipelines.io_utils import write_json
    from musicvae_tf.models.inpainting.evaluate import read_windows
    from musicvae_tf.models.sketchnet.evaluate import evaluate_sketchnet, print_rows
    from musicvae_tf.models.sketchnet.inpaint import load_sketchnet

    inpainter = load_sketchnet(run_dir)
    windows = read_windows(args.data, args.split, inpainter.config.data)
    result = {"run_dir": str(run_dir), "data": str(args.data), "split": args.split,
              "windows": int(len(windows)),
              "methods": evaluate_sketchnet(inpainter, windows, args.batch_size)}
    write_json(out, result)
    print_rows(result["methods"])
    print(f"wrote {out}")
    return 0

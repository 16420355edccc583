"""Staged training of a hierarchical MusicVAE: the stages of a config's ``curriculum`` section,
run in order by one ``musicvae-tf train``.

Stage n trains in ``RUN/stages/<n>-<name>`` (the last stage in ``RUN`` itself, so ``RUN`` is an
ordinary MusicVAE run dir when it ends), with the generic trainer: each stage logs its own
``metrics.jsonl``, TensorBoard events and ``training_curves.png``, checkpoints, and resumes from its
last checkpoint after any stop, kill -9 included. A stage that ends (its steps, or its minutes)
writes ``stage.json`` and is skipped by later runs; the next stage starts from the weights in its
``model.keras``. The first stage starts from a fresh model whose bar level is the bar model's and,
with ``model.linear_skip``, whose linear code is the bars' whitened principal components
(:mod:`musicvae_tf.models.music_vae.linear_code`).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from data_pipelines.errors import MusicVAEError

STAGES_DIR = "stages"
STAGE_RECORD = "stage.json"


@dataclasses.dataclass(frozen=True)
class StageResult:
    """What one stage ended with (``result`` is the trainer's, None for a stage already done)."""

    name: str
    run_dir: Path
    result: object | None


def stage_dirs(config, run_dir: str | Path) -> list[Path]:
    """The run dir of each stage, in order."""
    stages = config.section("curriculum").stages
    run_dir = Path(run_dir)
    return [run_dir / STAGES_DIR / f"{index}-{stage.name}" for index, stage in
            enumerate(stages[:-1])] + [run_dir]


def stage_config(config, stage):
    """``config`` as one stage trains it: ``training.num_steps`` is the stage's steps."""
    return dataclasses.replace(config, training=dataclasses.replace(config.training,
                                                                     num_steps=stage.steps))


def load_bar_model(config):
    """The one-bar MusicVAE that ``curriculum.bar_model`` names, checked against the bar format
    of ``config``'s data."""
    from musicvae_tf.models.loading import load_model
    from musicvae_tf.models.music_vae.bar_level import bar_model_of

    name = config.section("curriculum").bar_model
    model, bar_config, _ = load_model(name)
    for field in ("steps_per_bar", "min_pitch", "max_pitch", "encoding"):
        mine, theirs = getattr(config.data, field), getattr(bar_config.data, field)
        if mine != theirs:
            raise MusicVAEError(f"curriculum.bar_model {name} has data.{field} {theirs}, this "
                                f"config {mine}")
    return bar_model_of(model)


def initial_model(config, previous: Path | None, bar_model):
    """A built MusicVAE to start a stage from: the previous stage's weights, or (first stage) a
    fresh model with the bar model's bar level."""
    from musicvae_tf.models.loading import load_keras_file
    from musicvae_tf.models.music_vae.bar_level import load_bar_level
    from musicvae_tf.models.music_vae.model import build_model
    from musicvae_tf.training.run_files import MODEL_FILE

    model = build_model(config)
    if previous is None:
        if bar_model is not None:
            load_bar_level(model, bar_model)
        return model
    source = load_keras_file(previous / MODEL_FILE, "model of the previous stage")
    model.set_weights(source.get_weights())
    return model


def stage_budgets(stages, done: list[bool], minutes: float | None) -> list[float | None]:
    """Minutes for each stage: its own ``minutes`` (None: no limit), and with an overall budget
    ``minutes`` the stages still to run share it in proportion to theirs (equally when none sets
    one)."""
    own = [stage.minutes or None for stage in stages]
    if minutes is None:
        return own
    pending = [i for i, finished in enumerate(done) if not finished]
    weights = {i: stages[i].minutes or 1.0 for i in pending}
    total = sum(weights.values()) or 1.0
    return [None if i not in weights else
            min(minutes * weights[i] / total, own[i] or float("inf")) for i in range(len(stages))]


def train_curriculum(config, data_dir, run_dir, *, steps=None, minutes=None, log=print,
                     **options) -> list[StageResult]:
    """Run every stage that has not ended; stops after a stage that was interrupted (signal).

    ``steps`` (``--steps``) caps the last stage's steps. Returns one result per stage run or
    skipped, in order; the caller reads the stop reason of the last.
    """
    from musicvae_tf.models.music_vae.task import vae_dataset_fn
    from musicvae_tf.training.run_files import MODEL_FILE
    from musicvae_tf.training.trainer import train as run_trainer

    section = config.section("curriculum")
    stages = list(section.stages)
    if steps is not None:
        stages[-1] = dataclasses.replace(stages[-1], steps=int(steps))
    dirs = stage_dirs(config, run_dir)
    done = [(path / STAGE_RECORD).is_file() for path in dirs]
    budgets = stage_budgets(stages, done, minutes)
    bar_model = None
    results = []
    for index, (stage, path) in enumerate(zip(stages, dirs)):
        if done[index]:
            results.append(StageResult(stage.name, path, None))
            continue
        previous = dirs[index - 1] if index else None
        if previous is not None and not (previous / MODEL_FILE).is_file():
            raise MusicVAEError(f"stage {stage.name} needs {previous / MODEL_FILE}, which the "
                                "stage before it did not write")
        if bar_model is None and section.bar_model:
            bar_model = load_bar_model(config)
        settings = stage_config(config, stage)

        task_builder = functools.partial(_stage_task, settings, stage, previous, path, bar_model,
                                         data_dir, log)
        log(f"stage {index + 1}/{len(stages)} {stage.name}: {stage.steps} steps"
            + (f", at most {budgets[index]:.1f} minutes" if budgets[index] else "")
            + f", trains {stage.trains} ({path})")
        result = run_trainer(task_builder, vae_dataset_fn(data_dir, settings), path, settings,
                             minutes=budgets[index], log=log,
                             progress_label=f"stage {index + 1}/{len(stages)} {stage.name}",
                             **options)
        results.append(StageResult(stage.name, path, result))
        if result.stop_reason not in ("steps", "time"):
            break
        write_stage_record(path, stage, result)
        if index + 1 < len(stages):
            log(f"stage {stage.name} ended ({result.stop_reason}) at step {result.final_step}; "
                f"stage {stages[index + 1].name} starts from its weights")
    return results


def _stage_task(settings, stage, previous, path, bar_model, data_dir, log):
    """The :class:`StageTask` of one stage, its model started as :func:`initial_model` says and,
    for a fresh first stage with a linear skip, its linear code fitted to the training windows."""
    from data_pipelines.reader import make_dataset
    from musicvae_tf.models.music_vae.linear_code import set_linear_code
    from musicvae_tf.models.music_vae.stage_task import StageTask
    from musicvae_tf.models.music_vae.task import diagnostic_batch
    from musicvae_tf.training.run_files import CHECKPOINT_DIR

    model = initial_model(settings, previous, bar_model)
    if previous is None and model.linear_skip and bar_model is not None \
            and not (path / CHECKPOINT_DIR).exists():
        fitted = set_linear_code(model, bar_model, make_dataset(
            str(data_dir), "train", settings.data, 256, training=False))
        log(f"linear code: {model.latent_dim} whitened principal components of "
            f"{fitted['windows']} training windows' bar latents "
            f"({100 * fitted['explained_variance']:.2f} % of their variance)")
    return StageTask(settings, stage, bar_model=bar_model, model=model,
                     diagnostic_batch=lambda: diagnostic_batch(data_dir, settings))


def restore_stage_checkpoint(config, checkpoint: str):
    """A MusicVAE holding a curriculum stage's checkpoint (a stage still training): a stage
    that trains only the top saved only those variables, so its bar level comes from the bar
    model, as when the stage started."""
    from musicvae_tf.models.loading import restore_trained_variables
    from musicvae_tf.models.music_vae.bar_level import stage_variables

    stage_dir = Path(checkpoint).parent.parent
    stages = config.section("curriculum").stages
    stage = stages[-1]
    if stage_dir.parent.name == STAGES_DIR:
        index = int(stage_dir.name.split("-", 1)[0])
        stage = stages[index] if 0 <= index < len(stages) else stage
    bar_model = load_bar_model(config) if stage.trains == "top" else None
    model = initial_model(config, None, bar_model)
    return restore_trained_variables(model, checkpoint, stage_variables(model, stage.trains))


def write_stage_record(path: Path, stage, result) -> None:
    """``stage.json``: the stage has ended (and why), so later runs go on to the next."""
    from data_pipelines.io_utils import write_json

    write_json(path / STAGE_RECORD, {"stage": stage.name, "final_step": result.final_step,
                                     "stop_reason": result.stop_reason})


"""The generic training loop shared by every model family (MusicVAE, the inpainting latent RNN).

``train(task_builder, dataset_fn, run_dir, config, steps, strategy_name, precision)`` resumes from
the newest checkpoint in ``R/ckpt`` when there is one, trains until ``steps`` (a global step
target, not a count of extra steps) or the time budget is reached, then checkpoints and exports
``R/model.keras``. Ctrl-C and SIGTERM stop it the same clean way. A non-finite loss stops it with
a one-line MusicVAEError and leaves the last good checkpoint untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import math
import time
from pathlib import Path
from typing import Callable

from musicvae_tf.config import Config
from data_pipelines.errors import MusicVAEError
from musicvae_tf.training import run_files
from musicvae_tf.training.checkpoints import CheckpointStore
from musicvae_tf.training.curves import plot_training_curves
from musicvae_tf.training.metrics_log import MetricsLog
from musicvae_tf.training.precision import build_optimizer, resolve_precision, set_precision
from musicvae_tf.training.progress import TrainingProgress
from musicvae_tf.training.run_lock import run_dir_lock
from musicvae_tf.training.stop_signals import GracefulStop
from musicvae_tf.training.strategy import is_chief, make_strategy, worker_index
from musicvae_tf.training.task import TrainingTask


@dataclasses.dataclass
class TrainingSetup:
    """Everything one compiled training step needs, created under the strategy's scope."""

    strategy: object
    task: TrainingTask
    optimizer: object
    step: object  # int64 tf.Variable, the global step
    train_step: Callable


@dataclasses.dataclass
class TrainingResult:
    """What a call to ``train`` did."""

    run_dir: Path
    start_step: int
    final_step: int
    stop_reason: str  # "steps", "time" or the signal name
    last_metrics: dict
    checkpoint: str | None
    model_path: Path | None


def setup_training(task_builder: Callable[[], TrainingTask], strategy, precision: str, *,
                   clip_norm: float = 1.0, skip_norm: float = 1e4,
                   seed: int | None = None, jit_compile: bool = False) -> TrainingSetup:
    """Set the precision, build the task and optimiser under ``strategy.scope()`` and compile
    the train step (also what bench/train_throughput.py times; ``jit_compile``: the forward and
    backward pass through XLA). ``seed`` fixes the initial weights (Python, NumPy and Keras
    seeds)."""
    import keras
    import tensorflow as tf

    from musicvae_tf.training.train_step import make_train_step

    set_precision(precision)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    with strategy.scope():
        task = task_builder()
        optimizer = build_optimizer(task.learning_rate, precision)
        optimizer.build(task.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    train_step = make_train_step(task, optimizer, strategy, step=step, clip_norm=clip_norm,
                                 skip_norm=skip_norm, jit_compile=jit_compile)
    return TrainingSetup(strategy, task, optimizer, step, train_step)


def train(task_builder: Callable[[], TrainingTask], dataset_fn: Callable, run_dir: str | Path,
          config: Config, steps: int | None = None, strategy_name: str = "auto",
          precision: str = "float32", *, minutes: float | None = None, strategy=None,
          progress: bool = True, log: Callable[[str], None] = print,
          progress_label: str = "train") -> TrainingResult:
    """Train (or resume training) the task in ``run_dir`` and return what happened.

    ``dataset_fn(input_context)`` returns the per-replica training dataset of ``(inputs...)``
    batches that ``task.losses`` understands; if it also accepts ``start_step`` it is told the step
    training resumes from, so that data after a restart is a deterministic function of that step.
    ``minutes`` is a wall-clock budget for this call (checked between steps; per process, so use
    ``steps`` under multi-worker training). The chief holds the run dir's lock
    (:mod:`musicvae_tf.training.run_lock`) throughout, so a second training there is refused.
    """
    strategy = strategy or make_strategy(strategy_name)
    lock = run_dir_lock(run_dir) if is_chief(strategy) else contextlib.nullcontext()
    with lock:
        return _train(task_builder, dataset_fn, run_dir, config, steps, strategy_name, precision,
                      minutes=minutes, strategy=strategy, progress=progress, log=log,
                      progress_label=progress_label)


def _train(task_builder: Callable[[], TrainingTask], dataset_fn: Callable, run_dir: str | Path,
           config: Config, steps: int | None = None, strategy_name: str = "auto",
           precision: str = "float32", *, minutes: float | None = None, strategy=None,
           progress: bool = True, log: Callable[[str], None] = print,
           progress_label: str = "train") -> TrainingResult:
    """:func:`train` once the run dir is locked."""
    run_dir = Path(run_dir)
    training = config.training
    total = int(steps if steps is not None else training.num_steps)
    if total < 0:
        raise MusicVAEError(f"--steps must be >= 0, got {total}")
    strategy = strategy or make_strategy(strategy_name)
    chief = is_chief(strategy)
    run_files.check_resumable(run_files.read_run_config(run_dir), config, run_dir)
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        run_files.write_run_config(config, run_dir)

    import tensorflow as tf

    precision, why = resolve_precision(
        precision, has_gpu=bool(tf.config.list_logical_devices("GPU")))
    if chief:
        log(f"precision {precision} ({why})")
        lstm_impl = getattr(config.model, "lstm_impl", None)
        if lstm_impl is not None:
            from musicvae_tf.layers.lstm_keras import resolve_lstm_impl

            log(f"LSTM {resolve_lstm_impl(lstm_impl)} (model.lstm_impl {lstm_impl})")
    setup = setup_training(task_builder, strategy, precision, clip_norm=training.clip_norm,
                           skip_norm=training.skip_norm, seed=training.seed,
                           jit_compile=training.jit_compile)
    store = CheckpointStore(run_dir / run_files.CHECKPOINT_DIR, keep=training.keep_checkpoints,
                            chief=chief, worker_index=worker_index(strategy),
                            model=setup.task.model, optimizer=setup.optimizer, step=setup.step,
                            **setup.task.extra_checkpoint_objects())
    restored = store.restore_latest()
    start = int(setup.step.numpy())
    if restored:
        log(f"resumed from {restored} at step {start}")

    metrics = MetricsLog(run_dir / run_files.METRICS_FILE, run_dir / run_files.LOG_DIR,
                         resume_step=start) if chief else None
    try:
        result = _loop(setup, dataset_fn, store, metrics, run_dir, config, start, total,
                       minutes, progress, log, progress_label)
    finally:
        if metrics is not None:
            metrics.close()
            plot_training_curves(run_dir / run_files.METRICS_FILE,
                                 run_dir / run_files.CURVES_FILE, title=config.name)
        store.close()
    return result


def _make_iterator(strategy, dataset_fn, start: int):
    if "start_step" in inspect.signature(dataset_fn).parameters:
        def per_worker(context):
            return dataset_fn(context, start_step=start)
    else:
        per_worker = dataset_fn
    return iter(strategy.distribute_datasets_from_function(per_worker))


def _loop(setup, dataset_fn, store, metrics, run_dir, config, start, total, minutes, progress,
          log, progress_label="train") -> TrainingResult:
    training = config.training
    current, last_saved, last_logged = start, start if store.latest else None, start
    stop_reason, last_metrics, last_warning = "steps", {}, None
    deadline = None if minutes is None else time.monotonic() + 60.0 * minutes
    if current < total:
        iterator = _make_iterator(setup.strategy, dataset_fn, start)
    window_start, window_steps = time.perf_counter(), 0
    with GracefulStop() as stop, TrainingProgress(start, total, enabled=progress,
                                                      description=progress_label) as bar:
        while current < total:
            if stop.requested:
                stop_reason = stop.requested
                break
            if deadline is not None and time.monotonic() >= deadline:
                stop_reason = "time"
                break
            scalars = {k: float(v) for k, v in setup.train_step(next(iterator)).items()}
            current += 1
            window_steps += 1
            if not math.isfinite(scalars["loss"]):
                where = store.latest or "none (no checkpoint was written yet)"
                raise MusicVAEError(
                    f"loss became {scalars['loss']} at step {current}; training stopped, "
                    f"last good checkpoint: {where}")
            elapsed = time.perf_counter() - window_start
            rate = window_steps / elapsed if elapsed > 0 else 0.0
            last_metrics = dict(scalars, steps_per_sec=rate)
            bar.update(current, scalars, rate)
            if metrics is not None and current % training.summary_every == 0:
                last_metrics.update(setup.task.summary_metrics())
                metrics.write(current, last_metrics)
                bar.summary(current, last_metrics)
                last_logged = current
                window_start, window_steps = time.perf_counter(), 0
                warning = setup.task.health_warning(last_metrics, current)
                if warning and not last_warning:
                    bar.print(f"warning at step {current}: {warning}")
                last_warning = warning
            if current % training.checkpoint_every == 0:
                store.save(current)
                last_saved = current
    if metrics is not None and last_metrics and last_logged != current:
        last_metrics.update(setup.task.summary_metrics())
        metrics.write(current, last_metrics)
    if last_saved != current:
        store.save(current)
    model_path = None
    if store.chief:
        model_path = run_files.export_model(setup.task.model, run_dir)
    if stop_reason != "steps":
        log(f"stopped early ({stop_reason}) at step {current}; run the same command to resume")
    return TrainingResult(run_dir, start, current, stop_reason, last_metrics, store.latest,
                          model_path)

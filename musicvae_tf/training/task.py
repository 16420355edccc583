"""The contract between the generic trainer and one model family."""

from __future__ import annotations

from typing import Any


class TrainingTask:
    """What the trainer needs from a model family (MusicVAE, the inpainting latent RNN, ...).

    A task is created by a ``task_builder()`` that the trainer calls inside ``strategy.scope()``,
    so ``model`` and any variables the task makes are distributed. Subclasses set ``model`` and
    implement ``losses``; the other members have sensible defaults.
    """

    model: Any = None

    def losses(self, batch, step, training: bool) -> dict:
        """Scalar float32 tensors for one (per-replica) batch, including ``"loss"``.

        ``loss`` is the mean over this replica's examples, NOT divided by the number of replicas:
        the trainer does that before taking gradients, and logs the unscaled value. ``step`` is the
        global training step (an int64 scalar tensor) for step-dependent schedules.
        """
        raise NotImplementedError

    @property
    def learning_rate(self):
        """A float or a ``keras.optimizers.schedules.LearningRateSchedule`` for Adam: by default
        the exponential decay ``config.training`` sets (rate, floor, decay), 1e-3 without a
        ``config``."""
        config = getattr(self, "config", None)
        if config is None:
            return 1e-3
        from musicvae_tf.layers.schedules import LearningRateDecay

        training = config.training
        return LearningRateDecay(training.learning_rate, training.min_learning_rate,
                                 training.decay_rate)

    @property
    def trainable_variables(self) -> list:
        """Variables the optimiser updates (frozen parts of the model are left out)."""
        return self.model.trainable_variables

    def summary_metrics(self) -> dict[str, Any]:
        """Extra values logged with each training summary (e.g. held-out diagnostics)."""
        return {}

    def health_warning(self, metrics: dict[str, Any], step: int) -> str | None:
        """A one-line warning when the logged ``metrics`` at ``step`` show a failing run."""
        return None

    def extra_checkpoint_objects(self) -> dict[str, Any]:
        """Trackable objects besides the model to save in checkpoints (none by default)."""
        return {}

"""Generic distributed training: strategies, precision, the compiled step, checkpoints, logs.

``train`` runs any ``TrainingTask``; ``vae_task.VAETask`` is the MusicVAE one.
"""

from musicvae_tf.training.precision import PRECISIONS, build_optimizer, set_precision
from musicvae_tf.training.strategy import STRATEGIES, make_strategy
from musicvae_tf.training.task import TrainingTask
from musicvae_tf.training.trainer import TrainingResult, TrainingSetup, setup_training, train

__all__ = [
    "PRECISIONS", "STRATEGIES", "TrainingResult", "TrainingSetup", "TrainingTask",
    "build_optimizer", "make_strategy", "set_precision", "setup_training", "train",
]

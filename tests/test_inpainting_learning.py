"""A tiny two-stage model, trained with the generic trainer, learns to continue an alternating pattern.

Windows alternate two of four one-bar melodies (X Y X Y ...). Filling a gap means continuing the
alternation: the latent RNN can learn it, while interpolating between the bars on either side of
the gap (the paper's baseline) cannot, whatever the gap length.
"""

import numpy as np

from inpainting_support import alternating_windows, tiny_inpaint_config, tiny_measure_config

NUM_BARS = 8
STEPS_PER_BAR = 4


def test_latent_rnn_learns_pattern_far_above_interpolation(tmp_path):
    import keras
    import tensorflow as tf

    from musicvae_tf.models.inpainting.evaluate import evaluate_windows
    from musicvae_tf.models.inpainting.inpaint import LatentRNNInpainter
    from musicvae_tf.models.inpainting.inpaint_task import inpainting_dataset
    from musicvae_tf.models.inpainting.measure_vae import bars_of_windows
    from musicvae_tf.models.inpainting.training import train_latent_rnn, train_measure_vae

    quiet = ["training.summary_every=1000", "training.checkpoint_every=1000"]
    config = tiny_inpaint_config(NUM_BARS, max_gap=4, steps_per_bar=STEPS_PER_BAR, batch_size=16,
                                 learning_rate=0.01, min_learning_rate=0.001,
                                 summary_every=1000, checkpoint_every=1000)
    measure_config = tiny_measure_config(config, "training.learning_rate=0.01",
                                         "training.batch_size=64", *quiet)
    windows = alternating_windows(64, NUM_BARS, STEPS_PER_BAR, seed=0)
    one_hot = np.eye(config.data.num_classes, dtype=np.float32)[windows]

    def window_batches(batch_size, seed):
        return (tf.data.Dataset.from_tensor_slices((one_hot, windows)).repeat()
                .shuffle(64, seed=seed).batch(batch_size, drop_remainder=True))

    def measure_batches(input_context, start_step=0):
        return window_batches(8, start_step).map(lambda x, y: bars_of_windows(x, y, STEPS_PER_BAR))

    def latent_batches(input_context, start_step=0):
        return inpainting_dataset(window_batches(16, start_step), config, start_step)

    options = dict(strategy_name="cpu", progress=False)
    measure = train_measure_vae(measure_config, tmp_path / "measure", measure_batches, steps=150,
                                **options)
    assert measure.last_metrics["accuracy"] > 0.95
    train_latent_rnn(config, tmp_path / "rnn", tmp_path / "measure", latent_batches, steps=100,
                     **options)

    model = keras.saving.load_model(tmp_path / "rnn" / "model.keras")
    held_out = alternating_windows(32, NUM_BARS, STEPS_PER_BAR, seed=7)
    results = evaluate_windows(LatentRNNInpainter(model, config), held_out, ("B",), batch_size=16,
                               seed=1)["B"]["methods"]
    rnn, interpolation = results["latent_rnn"], results["interpolation"]
    assert rnn["accuracy"] > 0.9
    assert rnn["accuracy"] > interpolation["accuracy"] + 0.3
    assert rnn["nll"] < interpolation["nll"]

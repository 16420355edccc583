"""musicvae-tf: hierarchical recurrent VAEs for symbolic music (TensorFlow 2 + Keras 3)."""

__version__ = "0.1.0"

"""Bundled YAML configs, installed as the ``musicvae_tf.configs`` package."""

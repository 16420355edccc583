"""PianoTree VAE (SPEC_MODELS §C): a polyphonic 2-bar VAE over per-step onset lists."""

"""MusicVAE (Roberts et al. 2018; SPEC §3-§5): a bidirectional LSTM encoder, a flat or
hierarchical LSTM decoder, its training task (loss, schedules, train-step pieces), evaluation,
its config section and Magenta checkpoint import/export."""

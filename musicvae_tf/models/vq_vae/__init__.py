"""VQ-VAE: MusicVAE's bar encoder and bar decoder around per-bar vector quantisation, with a
masked Transformer prior over the bar codes (SPEC_MODELS §D3)."""

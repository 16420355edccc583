"""SketchVAE: a per-bar VAE with a pitch latent and a rhythm latent (SPEC_MODELS §B2)."""

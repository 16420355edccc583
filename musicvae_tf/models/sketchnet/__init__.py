"""SketchNet: inpainting over SketchVAE latents that a user can steer with sketches (§B3)."""

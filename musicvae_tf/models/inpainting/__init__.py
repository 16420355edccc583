"""Score inpainting (issue 5): fill missing bars so they connect what comes before and after.

Two stages after InpaintNet (Pati, Lerch, Hadjeres, ISMIR 2019; SPEC §7): a measure VAE (our
MusicVAE over one bar) and a latent RNN that maps the latents of the context bars to latents for
the missing bars, decoded by the frozen measure decoder. Public entry points live in
``musicvae_tf.models.inpainting.inpaint`` (API) and ``musicvae_tf.models.inpainting.evaluate``.
"""

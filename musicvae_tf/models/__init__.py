"""Model families, one folder each (``music_vae``, ``inpainting``), the registry that picks one
by a config's ``family:`` and the one model loader."""

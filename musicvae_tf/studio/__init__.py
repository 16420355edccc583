"""``musicvae-tf serve``: a local web studio over the generation API (sample, interpolate,
inpaint; piano rolls, playback and MIDI download in the browser). ``service`` holds the models and
the generation calls, ``app`` the Starlette routes, ``static/`` the page."""

"""The bar level of a hierarchical MusicVAE and a one-bar MusicVAE that can start it.

The bar level is what reads or writes one bar: the hierarchical encoder's per-bar bidirectional
LSTM (and, with a linear skip, its bar-latent layer: the one-bar model's mean layer) and the bar
decoder's cores (initial-state Dense, LSTM, logits). With ``bar_latent_dim``
equal to a one-bar MusicVAE's ``latent_dim`` (its encoder one layer of ``encoder_units[0]``, its
decoder flat with the same units), both have exactly that model's shapes, so its encoder LSTM and
decoder load into them unchanged; staged training (``curriculum``) starts from there.
"""

from __future__ import annotations

from data_pipelines.errors import MusicVAEError


def bar_model_of(model):
    """The one-bar MusicVAE in ``model``: the model itself, or the measure VAE that an
    inpainting model embeds; MusicVAEError for anything else."""
    from musicvae_tf.models.music_vae.model import MusicVAE

    candidate = getattr(model, "measure_vae", model)
    if not isinstance(candidate, MusicVAE) or candidate.num_bars != 1:
        raise MusicVAEError(f"{getattr(model, 'name', model)} is not (and holds no) one-bar "
                            "MusicVAE to build a bar level from")
    return candidate


def bar_level_variables(model) -> list:
    """The trainable variables of ``model``'s bar level (bar encoder LSTM and its bar-latent
    layer when the encoder is hierarchical, every bar-decoder core)."""
    variables = []
    if model.encoder_kind == "hierarchical":
        variables += model.encoder.lstm.trainable_variables
        if model.encoder.bar_latent_layer is not None:
            variables += model.encoder.bar_latent_layer.trainable_variables
    for core in model.decoder.cores():
        for layer in core:
            variables += layer.trainable_variables
    return variables


def stage_variables(model, trains: str) -> list:
    """What a curriculum stage trains (and so checkpoints), in model order: every trainable
    variable (``all``) or every one outside the bar level (``top``)."""
    if trains == "all":
        return model.trainable_variables
    frozen = {id(v) for v in bar_level_variables(model)}
    return [v for v in model.trainable_variables if id(v) not in frozen]


def load_bar_level(model, bar_model) -> None:
    """Copy ``bar_model``'s encoder LSTM and decoder into ``model``'s bar level (in place).

    MusicVAEError, naming the first weight whose shape differs, when they do not fit."""
    if model.decoder_kind != "hierarchical" or len(model.output_splits) != 1:
        raise MusicVAEError("a bar level loads into a one-track hierarchical-decoder MusicVAE")
    if bar_model.decoder_kind != "flat" or bar_model.output_splits != model.output_splits:
        raise MusicVAEError("the bar model must be a one-track flat-decoder MusicVAE")
    pairs = [(model.decoder.lstm, bar_model.decoder.lstm),
             (model.decoder.initial_state_layer, bar_model.decoder.initial_state_layer),
             (model.decoder.output_layer, bar_model.decoder.output_layer)]
    if model.encoder_kind == "hierarchical":
        pairs.insert(0, (model.encoder.lstm, bar_model.encoder.lstm))
        if model.encoder.bar_latent_layer is not None:
            pairs.insert(1, (model.encoder.bar_latent_layer, bar_model.encoder.mu_layer))
    for target, source in pairs:
        if len(target.weights) != len(source.weights):
            raise MusicVAEError(f"the bar model does not fit this model's bar level: {target.name} "
                                f"has {len(target.weights)} weights, the bar model's "
                                f"{len(source.weights)}")
        for mine, theirs in zip(target.weights, source.weights):
            if tuple(mine.shape) != tuple(theirs.shape):
                raise MusicVAEError(
                    f"the bar model does not fit this model's bar level: {mine.path} is "
                    f"{tuple(mine.shape)}, the bar model's {theirs.path} {tuple(theirs.shape)} "
                    f"(model.bar_latent_dim, decoder_units and encoder_units[0] must match it)")
    for target, source in pairs:
        for mine, theirs in zip(target.weights, source.weights):
            mine.assign(theirs)

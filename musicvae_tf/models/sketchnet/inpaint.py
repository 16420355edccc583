"""Inpainting with SketchNet, steered by optional sketches (``sketches.Sketch`` per gap bar).

A sketch's rhythm goes through the SketchVAE's rhythm encoder and its pitches through the pitch
encoder; the posterior means overwrite that bar's z_rhythm / z_pitch at the connector's input and
output. At generation the decoder is also held to the sketch (its rhythm classes per step, its
onset pitches in order), so the output obeys it exactly; evaluation scores the latents alone."""

from __future__ import annotations

import numpy as np

from musicvae_tf.models.inpainting.inpaint import Inpainter
from musicvae_tf.models.sketch_vae.factorise import PAD, pitch_row, rhythm_row


class SketchNetInpainter(Inpainter):
    """A trained :class:`SketchNet` and its config; ``sketches`` (``{gap index: Sketch}``)
    steer :meth:`gap_tokens`."""

    def __init__(self, model, config, sketches: dict | None = None):
        super().__init__(model, config)
        self.sketches = dict(sketches or {})

    def sketch_latents(self, batch: int, gap: int, rhythm=None, pitches=None):
        """``(sketch [B, G, Z], mask [B, G, Z])`` from rhythm rows and pitch rows ``[B, G, S]``
        (a row whose first entry is -1 is not given; -1 later in a pitch row is padding)."""
        from musicvae_tf.models.sketchnet.model import sketch_masks

        vae, steps = self.model.vae, self.config.data.steps_per_bar
        sketch = np.zeros((batch * gap, vae.latent_dim), np.float32)
        flags = []
        for values, encode, part in ((pitches, vae.encode_pitches, slice(0, vae.pitch_latent)),
                                     (rhythm, vae.encode_rhythm, slice(vae.pitch_latent, None))):
            given = np.zeros(batch * gap, bool)
            if values is not None:
                rows = np.asarray(values).reshape(batch * gap, steps)
                given = rows[:, 0] >= 0
                if given.any():
                    mean, _ = encode(np.where(rows[given] >= 0, rows[given], PAD))
                    sketch[given, part] = np.asarray(mean)
            flags.append(given.reshape(batch, gap))
        mask = sketch_masks(batch, gap, vae.pitch_latent, vae.rhythm_latent, *flags)
        return sketch.reshape(batch, gap, -1), np.asarray(mask)

    def _sketch_rows(self, gap: int):
        """Rhythm rows and pitch rows ``[1, G, S]`` of the sketches, -1 where nothing is given."""
        steps = self.config.data.steps_per_bar
        rhythm = np.full((1, gap, steps), -1, np.int32)
        pitches = np.full((1, gap, steps), -1, np.int32)
        for index, sketch in self.sketches.items():
            if sketch.rhythm is not None:
                rhythm[0, index] = sketch.rhythm
            if sketch.pitches is not None:
                pitches[0, index, :len(sketch.pitches)] = sketch.pitches
        return rhythm, pitches

    def gap_tokens(self, window_bars: np.ndarray, split, num_outputs: int = 1,
                   temperature: float = 0.5, seed: int | None = None) -> np.ndarray:
        """Tokens ``[num_outputs, split.gap, S]`` for the gap of one window ``[U, S]``."""
        latents = self.model.bar_latents(np.asarray(window_bars, np.int32)[None])
        rhythm, pitches = self._sketch_rows(split.gap)
        sketch, mask = self.sketch_latents(1, split.gap, rhythm, pitches)
        gap = self.model.gap_latents(latents, split.gap_start, split.gap, sketch, mask)
        gap = np.repeat(np.asarray(gap), num_outputs, axis=0)
        return self.model.sample_gap_tokens(
            gap, temperature, seed, rhythm=np.repeat(rhythm, num_outputs, 0),
            pitches=np.repeat(pitches, num_outputs, 0))

    def score(self, windows: np.ndarray, split, metric, given: str = "none",
              stage1_only: bool = False) -> None:
        """Add the gap of token windows ``[B, U * S]`` (greedy) to a ``GapMetrics``; ``given``
        is ``none``, ``rhythm`` or ``pitches``: the true ones of every gap bar, as latents only."""
        steps = self.config.data.steps_per_bar
        bars = np.asarray(windows, np.int32).reshape(len(windows), -1, steps)
        truth = bars[:, split.gap_start:split.gap_end]
        latents = self.model.bar_latents(bars)
        if stage1_only:
            gap = self.model.stage1_latents(latents, split.gap_start, split.gap)
        else:
            rhythm = np.asarray(rhythm_row(truth)) if given == "rhythm" else None
            pitches = np.asarray(pitch_row(truth)[0]) if given == "pitches" else None
            sketch, mask = self.sketch_latents(len(bars), split.gap, rhythm, pitches)
            gap = self.model.gap_latents(latents, split.gap_start, split.gap,
                                         sketch if given != "none" else None,
                                         mask if given != "none" else None)
        logits = np.asarray(self.model.decode_gap_logits(gap, truth))
        generated = self.model.sample_gap_tokens(gap)
        metric.add(truth.reshape(len(bars), -1), generated.reshape(len(bars), -1),
                   logits.reshape(len(bars), truth.shape[1] * steps, -1))


def load_sketchnet(run) -> SketchNetInpainter:
    """The SketchNet of a finished sketchnet run dir (or shipped name)."""
    from data_pipelines.errors import MusicVAEError
    from musicvae_tf.models.loading import load_run_model
    from musicvae_tf.pretrained import resolve_model

    model, config, _ = load_run_model(resolve_model(run))
    if config.family != "sketchnet":
        raise MusicVAEError(f"{run} is not a sketchnet run")
    return SketchNetInpainter(model, config)

"""The ``model`` section of a MusicVAE config: sizes of the recurrent VAE (SPEC §3, §5)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Sizes of the recurrent VAE (SPEC §3, §5). Encoder units are per direction."""

    encoder_units: tuple[int, ...] = (512,)
    # "flat" (one stack over all steps) or "hierarchical" (Magenta's hier-* encoder: one
    # bidirectional layer per bar, one over the bars; encoder_units then holds the two levels).
    encoder: str = "flat"
    latent_dim: int = 256
    decoder: str = "flat"  # "flat" or "hierarchical"
    decoder_units: tuple[int, ...] = (256, 256)
    conductor_units: tuple[int, ...] = ()
    # Hierarchical decoder only: > 0 maps each conductor output linearly to a bar latent of this
    # size, the z of a one-bar MusicVAE whose decoder the bar decoder can start from (staged
    # training, ``curriculum``); 0 feeds the conductor output to the bar decoder (Magenta).
    bar_latent_dim: int = 0
    # With bar_latent_dim and the hierarchical encoder and decoder: linear paths from the bar
    # latents to the mean of z and from z to the bar latents, beside the LSTMs (``curriculum``
    # starts them at the bars' principal components, so z carries the tune from the first step).
    linear_skip: bool = False
    # Whole-sequence LSTM passes: "fused" (the CPU kernel), "keras" (Keras's LSTM function, cuDNN
    # on a GPU) or "auto" (keras when a GPU is visible). Same weights either way.
    lstm_impl: str = "auto"
    # Batch-normalise the posterior mean to this fixed scale (BN-VAE, Zhu et al. 2020): every
    # dimension's mean then varies across a batch, which keeps the KL above zero and the latent
    # units active by construction. 0 (Magenta) leaves the mean as a plain Dense output.
    mu_batch_norm: float = 0.0


STAGE_PARTS = ("top", "all")


@dataclasses.dataclass(frozen=True)
class CurriculumStage:
    """One stage of a staged (curriculum) training run; see :class:`CurriculumSection`.

    ``trains``: ``top`` (the encoder's top level and the conductor; the bar level stays frozen)
    or ``all``. The loss is ``token_weight`` x the token cross-entropy + ``latent_weight`` x the
    latent loss (how far each bar latent ``c_u`` lies from the bar model's posterior mean of bar
    u, in units of that posterior's sigma) + beta x KL above the free bits. A stage ends after
    ``steps`` steps or ``minutes`` of training, whichever comes first (0: no time limit).
    ``learning_rate`` 0 keeps ``training.learning_rate``; ``latent_noise_warmup_steps`` -1 keeps
    ``training.latent_noise_warmup_steps``.
    """

    name: str = "stage"
    steps: int = 1000
    minutes: float = 0.0
    trains: str = "all"
    token_weight: float = 1.0
    latent_weight: float = 0.0
    learning_rate: float = 0.0
    latent_noise_warmup_steps: int = -1


@dataclasses.dataclass(frozen=True)
class CurriculumSection:
    """Staged training of a hierarchical MusicVAE (``musicvae-tf train`` runs every stage).

    ``bar_model``: a trained one-bar MusicVAE (shipped name, run dir or ``.keras``; a model that
    embeds one, such as an inpainting model, works too) whose bar encoder and decoder become this
    model's bar level before the first stage, and whose posterior means of each bar are the
    targets of the latent loss. Stages run in order, each in ``RUN/stages/<n>-<name>`` and the last
    one in ``RUN``, each starting from the weights the one before it ended with.
    """

    bar_model: str = ""
    stages: tuple[CurriculumStage, ...] = ()

    def validate(self, config) -> None:
        """UsageError when the stages do not fit ``config``'s model."""
        from data_pipelines.errors import UsageError

        model = config.model
        if not self.stages:
            raise UsageError(f"config {config.name}: curriculum.stages lists no stage")
        if model.decoder != "hierarchical" or model.bar_latent_dim < 1:
            raise UsageError(f"config {config.name}: a curriculum needs model.decoder "
                             "hierarchical with model.bar_latent_dim (the bar model's latent size)")
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise UsageError(f"config {config.name}: curriculum stage names repeat: {names}")
        for index, stage in enumerate(self.stages):
            where = f"config {config.name}: curriculum.stages[{index}] ({stage.name})"
            checks = [
                (stage.name.replace("_", "").replace("-", "").isalnum(),
                 "name must be letters, digits, - or _"),
                (stage.steps >= 1, "steps must be >= 1"),
                (stage.minutes >= 0, "minutes must be >= 0"),
                (stage.trains in STAGE_PARTS, f"trains must be one of {', '.join(STAGE_PARTS)}"),
                (stage.token_weight >= 0 and stage.latent_weight >= 0,
                 "token_weight and latent_weight must be >= 0"),
                (stage.token_weight + stage.latent_weight > 0,
                 "token_weight or latent_weight must be > 0"),
                (stage.latent_weight == 0 or self.bar_model,
                 "latent_weight needs curriculum.bar_model"),
                (stage.learning_rate >= 0, "learning_rate must be >= 0"),
                (stage.latent_noise_warmup_steps >= -1, "latent_noise_warmup_steps must be >= -1"),
            ]
            for ok, message in checks:
                if not ok:
                    raise UsageError(f"{where}: {message}")
        if self.stages[0].trains == "top" and not self.bar_model:
            raise UsageError(f"config {config.name}: a first stage that trains only the top "
                             "needs curriculum.bar_model (the bar level it keeps frozen)")


SECTIONS = {"curriculum": CurriculumSection}

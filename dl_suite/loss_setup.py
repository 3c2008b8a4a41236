"""From config keys to compiled losses: loss parameters, deep-supervision losses and weights.

The loss functions and classes are in `dl_suite.losses`; this module maps the config's keys
onto them (`loss_params_from_config`) and holds the one rule for the weights of a
deep-supervision model's outputs (`aux_loss_weights`).
"""

import logging

from dl_suite.losses import LOSSES, FocalTverskyLoss, TverskyLoss, accepted_params, get_loss

logger = logging.getLogger(__name__)


def loss_params_from_config(name, section):
    """Maps canonical config keys to the keyword arguments that loss `name` accepts.

    Args:
        name: the loss config string.
        section: mapping with any of `class_weights`, `focal_gamma`, `focal_alpha`,
            `tversky_alpha`, `tversky_beta`, `focal_tversky_gamma`, `loss_smooth`,
            `bce_weight`, `dice_weight` (sections `model` and `train` merged).

    Returns:
        dict of keyword arguments for `get_loss(name, **kwargs)`; keys the loss does not take
        are left out.
    """
    cls = LOSSES.get(name)
    accepted = accepted_params(cls)
    gamma_key = "focal_tversky_gamma" if cls is FocalTverskyLoss else "focal_gamma"
    alpha_key = "tversky_alpha" if cls in (TverskyLoss, FocalTverskyLoss) else "focal_alpha"
    mapping = {
        "class_weights": "class_weights",
        "gamma": gamma_key,
        "alpha": alpha_key,
        "beta": "tversky_beta",
        "smooth": "loss_smooth",
        "bce_weight": "bce_weight",
        "dice_weight": "dice_weight",
    }
    if section.get("class_weights") is not None and "class_weights" not in accepted:
        logger.warning(
            "class_weights %s are ignored: loss '%s' does not use them. Use 'weighted_bce', "
            "'weighted_bce_dice', 'sparse_cce' or 'categorical_cce' for class weights.",
            section["class_weights"], name,
        )
    return {
        arg: section[key]
        for arg, key in mapping.items()
        if arg in accepted and section.get(key) is not None
    }


DEFAULT_AUX_WEIGHT = 0.4  # the schema default of [model] aux_loss_weight


def aux_loss_weights(num_outputs, aux_weights=None):
    """Loss weights of a deep-supervision model: 1 for the main output, then one per auxiliary.

    The one rule for these weights (the trainer and `dl_suite.models.compile_kwargs` use it).

    Args:
        num_outputs: number of model outputs (main + auxiliary).
        aux_weights: one number for every auxiliary output, or a list of one per auxiliary
            output; None = `DEFAULT_AUX_WEIGHT` each.

    Raises:
        ValueError: `aux_weights` has the wrong length.
    """
    num_aux = int(num_outputs) - 1
    if aux_weights is None:
        aux_weights = DEFAULT_AUX_WEIGHT
    if isinstance(aux_weights, (int, float)):
        aux_weights = [float(aux_weights)] * num_aux
    aux_weights = [float(w) for w in aux_weights]
    if len(aux_weights) != num_aux:
        raise ValueError(
            f"Received `deep_supervision_weights` with {len(aux_weights)} values for a model "
            f"with {num_aux} auxiliary outputs; expected {num_aux} values (or one number). "
            "To fix: give one weight per auxiliary output."
        )
    return [1.0] + aux_weights


def deep_supervision_losses(name, num_outputs, aux_weights=None, **params):
    """Losses and weights for a model with deep supervision (main output first, then aux).

    Use as `model.compile(loss=losses, loss_weights=weights, ...)`; Keras then minimises
    the weighted sum over all outputs. Every output gets the same `y_true`.

    Args:
        name: loss config string applied to every output.
        num_outputs: number of model outputs (main + auxiliary).
        aux_weights: see `aux_loss_weights` (default `DEFAULT_AUX_WEIGHT` each).

    Returns:
        (losses, loss_weights): two lists of length `num_outputs`.

    Raises:
        ValueError: `aux_weights` has the wrong length.
    """
    weights = aux_loss_weights(num_outputs, aux_weights)
    losses = [get_loss(name, **params) for _ in range(int(num_outputs))]
    return losses, weights

"""Model zoo: `MODELS` registry, `build_model`, `input_multiple` and compile helpers.

Every builder is a plain function `build_<name>(input_shape, num_classes, *, ...)` whose
keyword arguments are named like the keys of the config's `model` section, so the trainer
can pass the whole section: `build_model(cfg["model"]["name"], shape, n, **cfg["model"])`.
"""

import importlib
import inspect
import logging

from dl_suite.models._registry import MODELS, TINY_KWARGS, description, multiple_rule

logger = logging.getLogger(__name__)

# Modules that register builders; imported here so that `MODELS` is complete.
_BUILDER_MODULES = (
    "unet", "attention_unet", "sharp_unet", "multires_unet", "unet3plus", "u2net",
    "mobile_unet", "unet_lstm", "efficient_unet", "deeplabv3plus", "pspnet", "icnet", "fcn",
    "segnet", "swin_unet", "transunet", "xception_unet", "basnet",
)
for _module in _BUILDER_MODULES:
    importlib.import_module(f"dl_suite.models.{_module}")

# Layer-name prefixes of encoders, frozen by `freeze_encoder=True`: the one rule, used when
# building a model and when fine-tuning from pretrained weights.
ENCODER_PREFIXES = ("enc", "encoder", "backbone", "stem", "bottleneck")

__all__ = [
    "MODELS", "build_model", "input_multiple", "builder_kwargs", "compile_kwargs",
    "output_names", "describe", "TINY_KWARGS",
]


def builder_kwargs(name, /, **kwargs):
    """The subset of `kwargs` that the builder of `name` accepts, with its defaults filled."""
    builder = MODELS.get(name)
    params = inspect.signature(builder).parameters
    accepted = {
        key: p.default for key, p in params.items()
        if p.kind is p.KEYWORD_ONLY or (p.default is not p.empty and key != "num_classes")
    }
    for key, value in kwargs.items():
        # keys the config leaves null take the builder's own default (e.g. num_heads
        # differs between swin_unet and transunet)
        if key in accepted and not (value is None and accepted[key] is not None):
            accepted[key] = value
    return accepted


def input_multiple(name, /, **kwargs):
    """The factor that image height and width must be divisible by for model `name`."""
    return int(multiple_rule(name)(**builder_kwargs(name, **kwargs)))


# build_model's own keys (applied to any model), never reported as ignored
_HANDLED_HERE = {"name", "freeze_encoder", "batch_norm_momentum"}


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def dropped_architecture_keys(name, kwargs):
    """The architecture keys of `kwargs` that model `name` does not take although they are set
    away from their schema default and other models take them (e.g. `dilation` for
    attention_unet): {key: (value, "the models that take it")}. Switching `model.model` would
    otherwise drop them silently."""
    from dl_suite.config.schema import defaults

    default = defaults().get("model", {})
    taken = set(builder_kwargs(name))
    users = {}
    for other in MODELS.names():
        for key in builder_kwargs(other):
            users.setdefault(key, []).append(other)
    dropped = {}
    for key, value in kwargs.items():
        if (key in users and key not in taken and key not in _HANDLED_HERE and key in default
                and _plain(value) != _plain(default[key])):
            names = users[key]
            dropped[key] = (value, ", ".join(names[:3]) + (", ..." if len(names) > 3 else ""))
    return dropped


def build_model(name, input_shape, num_classes=None, /, **kwargs):
    """Builds the model registered as `name` (a registry key or a legacy alias).

    Args:
        name: e.g. "unet", "TensorflowAttentionUNet".
        input_shape: (height, width, channels), or (time, height, width, channels) for the
            *_lstm models.
        num_classes: 1 for a binary mask, more for a softmax over classes (default:
            kwargs["num_classes"], else 1).
        **kwargs: model config keys (the whole config section may be passed, including
            `name` and `num_classes`); keys the builder does not take are ignored, with
            a warning for those set away from their default that other models take.
            `freeze_encoder=True` freezes the encoder layers after building;
            `batch_norm_momentum` sets the momentum of every batch normalisation layer.

    Returns:
        An uncompiled `keras.Model`; several outputs ("main", "aux1", ...) with deep
        supervision, see `compile_kwargs`.

    Raises:
        UnknownNameError: for an unknown name (with a did-you-mean).
        ValueError: for a bad value or an input size the model cannot take.
    """
    if num_classes is None:
        num_classes = kwargs.get("num_classes", 1)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("name", "num_classes")}
    canonical = MODELS.canonical(name)
    builder = MODELS.get(canonical)
    kw = {k: v for k, v in builder_kwargs(canonical, **kwargs).items() if k in kwargs}
    ignored = sorted(set(kwargs) - set(kw) - _HANDLED_HERE)
    if ignored:
        logger.debug("Model '%s' ignores config keys: %s", canonical, ", ".join(ignored))
    dropped = dropped_architecture_keys(canonical, kwargs)
    if dropped:
        logger.warning(
            "Model '%s' does not take these [model] keys, so they have no effect: %s. To use "
            "them, pick a model that takes them (model.model), or remove them from the config.",
            canonical, "; ".join(f"{key} = {value!r} (taken by {users})"
                                 for key, (value, users) in dropped.items()))
    model = builder(tuple(input_shape), num_classes, **kw)
    if kwargs.get("freeze_encoder") and "freeze_encoder" not in kw:
        frozen = freeze_encoder(model)
        logger.info("Froze %d encoder layers of '%s'.", frozen, canonical)
    momentum = kwargs.get("batch_norm_momentum")
    if momentum is not None and "batch_norm_momentum" not in kw:
        set_batch_norm_momentum(model, momentum)
    return model


def _layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # nested models (backbones)
            yield from _layers(layer)


def set_batch_norm_momentum(model, momentum):
    """Sets the moving-average momentum of every `BatchNormalization` layer (nested ones too).

    Keras' default 0.99 remembers about 100 steps; a short run's moving statistics then lag
    its weights and inference-mode outputs collapse in the first epochs. Saved with the model.

    Returns:
        The number of layers changed.
    """
    import keras

    count = 0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(momentum)
            count += 1
    return count


def freeze_encoder(model):
    """Sets `trainable=False` on the encoder layers (names starting with `ENCODER_PREFIXES`).

    Returns:
        The number of layers frozen.
    """
    count = 0
    for layer in model.layers:
        if layer.name.startswith(ENCODER_PREFIXES):
            layer.trainable = False
            count += 1
    if count == 0:
        logger.warning("freeze_encoder is on but no layer name of '%s' starts with %s.",
                       model.name, ", ".join(ENCODER_PREFIXES))
    return count


def output_names(model):
    """Output names, main output first ("main", "aux1", ...)."""
    return list(model.output_names)


def compile_kwargs(model, loss, metrics=None, aux_weight=None):
    """Keyword arguments for `model.compile` covering deep-supervision outputs.

    With one output this is `{"loss": loss, "metrics": metrics}`. With outputs
    ("main", "aux1", ...) every output gets `loss`, the main output weight 1.0 and each
    auxiliary output `aux_weight` (default and rule: `dl_suite.loss_setup.aux_loss_weights`); metrics are tracked on "main" only. All auxiliary outputs
    have the full input resolution, so the trainer feeds the same mask to each output
    (y as a dict {name: mask}).
    """
    from dl_suite.loss_setup import aux_loss_weights

    names = output_names(model)
    if len(names) == 1:
        return {"loss": loss, "metrics": list(metrics or [])}
    return {
        "loss": {n: loss for n in names},
        "loss_weights": dict(zip(names, aux_loss_weights(len(names), aux_weight))),
        "metrics": {names[0]: list(metrics or [])},
    }


def describe(name):
    """One-line description of model `name`."""
    return description(name)

"""The model registry and the per-model metadata that `build_model` and the CLI use."""

from dl_suite.registry import Registry

MODELS = Registry("model")

# name -> callable(**kwargs) -> int: the factor that H and W must be divisible by.
_MULTIPLES = {}
# name -> one-line description, shown by `dl-suite models`.
_DESCRIPTIONS = {}
# name -> dict of kwargs that make a tiny instance (tests, `dl-suite models --tiny`).
TINY_KWARGS = {}


def register_model(name, *, aliases=(), multiple, description, tiny=None):
    """Registers a builder in `MODELS` together with its input-size rule.

    Args:
        name: registry key (the config string).
        aliases: legacy names (e.g. INI class names) that resolve to `name`.
        multiple: int, or callable taking the builder's kwargs and returning the int that
            image height and width must be divisible by.
        description: one line saying what the architecture is.
        tiny: kwargs for a tiny test instance.

    Returns:
        The decorator.
    """

    def decorator(builder):
        MODELS.register(name, aliases=aliases)(builder)
        _MULTIPLES[name] = multiple if callable(multiple) else (lambda **_: multiple)
        _DESCRIPTIONS[name] = description
        TINY_KWARGS[name] = dict(tiny or {})
        return builder

    return decorator


def multiple_rule(name):
    return _MULTIPLES[MODELS.canonical(name)]


def description(name):
    return _DESCRIPTIONS[MODELS.canonical(name)]

"""Checks a raw config against the canonical schema and words every problem for a user."""

import difflib

import jsonschema

from dl_suite.config import schema as schema_lib

_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a text in quotes",
    "boolean": "True or False",
    "array": "a list such as [1, 2]",
    "object": "a section",
    "null": "None",
}


def _type_word(types):
    types = types if isinstance(types, list) else [types]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types)


def _did_you_mean(word, options, cutoff=0.5):
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=cutoff)
    return f" Did you mean '{close[0]}'?" if close else ""


def _coerce(spec, value):
    """Upgrades values our predecessors wrote loosely: 0/1 for booleans, 2 for (2, 2)."""
    types = spec.get("type", [])
    types = types if isinstance(types, list) else [types]
    if "boolean" in types and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    if "array" in types and isinstance(value, (int, float)) and not isinstance(value, bool):
        if spec.get("minItems") == 2 and spec.get("maxItems") == 2:
            return [value, value]
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return int(value)
    if "array" in types and isinstance(value, str) and spec.get("items", {}).get("type") == "string":
        return [value]
    return value


def unknown_key_problems(raw):
    """Problems for sections and keys the schema does not know (with did-you-mean)."""
    sections = schema_lib.section_properties()
    all_keys = {f"{s}.{k}" for s, props in sections.items() for k in props}
    problems = []
    for section, items in raw.values.items():
        if section not in sections:
            keys = ", ".join(sorted(items))
            problems.append(
                f"Unknown section [{section}] (keys: {keys}).{_did_you_mean(section, sections)} "
                f"Known sections: {', '.join(sorted(sections))}."
            )
            continue
        for key, value in list(items.items()):
            if key in sections[section]:
                items[key] = _coerce(sections[section][key], value)
                continue
            origin = raw.origins.get((section, key), f"{section}.{key}")
            hint = _did_you_mean(key, sections[section])
            if not hint:
                hint = _did_you_mean(f"{section}.{key}", all_keys, cutoff=0.8)
            problems.append(f"{origin}: unknown key '{key}' (given {value!r}) in section [{section}].{hint}")
    return problems


def _describe(error, origins):
    path = list(error.absolute_path)
    if len(path) >= 2:
        section, key = path[0], path[1]
        where = f"{section}.{key}"
        origin = origins.get((section, key))
        if origin and origin != where:
            where = f"{where} (written as {origin})"
        if len(path) > 2:
            where += "".join(f"[{p}]" for p in path[2:])
    else:
        where = ".".join(str(p) for p in path) or "config"
    given = error.instance
    kind = error.validator
    if kind == "enum":
        allowed = error.validator_value
        return (
            f"{where}: {given!r} is not allowed.{_did_you_mean(given, allowed)} "
            f"Allowed values: {', '.join(map(str, allowed))}."
        )
    if kind == "type":
        return f"{where}: expected {_type_word(error.validator_value)}, got {given!r}."
    if kind in ("minimum", "exclusiveMinimum"):
        word = "at least" if kind == "minimum" else "greater than"
        return f"{where}: {given!r} is too small; it must be {word} {error.validator_value}."
    if kind in ("maximum", "exclusiveMaximum"):
        word = "at most" if kind == "maximum" else "less than"
        return f"{where}: {given!r} is too large; it must be {word} {error.validator_value}."
    if kind == "pattern" and error.schema.get("description"):
        return f"{where}: {given!r} is not valid. Expected: {error.schema['description']}"
    if kind in ("minItems", "maxItems"):
        return f"{where}: {given!r} has the wrong length; {error.message}."
    return f"{where}: {error.message} (given {given!r})."


def schema_problems(values, origins):
    """Every schema violation of `values` (section -> key -> value), worded for a user."""
    validator = jsonschema.Draft202012Validator(schema_lib.canonical_schema())
    errors = sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path])
    problems = []
    for error in errors:
        # One message per failing key: for anyOf/oneOf-style failures keep the most specific.
        if error.context:
            error = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        problems.append(_describe(error, origins))
    return problems


def split_grid_problems(values):
    """Messages for an `eval.split_grid` that the instance method cannot use (empty: fine):
    a method without a split parameter, or values its parameter cannot take."""
    grid = values["eval"].get("split_grid") or []
    method = values["segmentation"].get("instance_method")
    numbers = isinstance(grid, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in grid)
    if not grid or not numbers or not isinstance(method, str):
        return []  # empty, or a type error the schema reports
    from dl_suite.inference.postprocess import SPLIT_PARAMETERS

    name = SPLIT_PARAMETERS.get(method)
    if name is None:
        methods = ", ".join(f"'{m}' ({p})" for m, p in SPLIT_PARAMETERS.items())
        return [f"eval.split_grid = {grid} tunes the parameter of the instance split, but "
                f"segmentation.instance_method '{method}' has none. To fix, remove "
                f"eval.split_grid or use an instance method that has one: {methods}."]
    if name == "min_distance" and any(v < 1 or v != int(v) for v in grid):
        return [f"eval.split_grid = {grid} holds values of min_distance (instance_method "
                "'watershed'): whole numbers of pixels, 1 or more, e.g. [5, 10, 15]."]
    if name in ("seed_threshold", "contour_threshold") and any(not 0 < v < 1 for v in grid):
        return [f"eval.split_grid = {grid} holds values of {name} (instance_method "
                f"'{method}'): numbers between 0 and 1, e.g. [0.3, 0.4, 0.5, 0.6]."]
    return []


def cooldown_problems(values):
    """A message for `train.cooldown_fraction` with a schedule that has its own decay (empty:
    fine): the cooldown lowers a float rate ('plateau', 'constant'); 'cosine' already decays to
    the end and 'step' follows its own rule, which the cooldown would fight."""
    train = values["train"]
    fraction, schedule = train.get("cooldown_fraction"), train.get("lr_schedule")
    numbers = isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
    if not numbers or not fraction or schedule not in ("cosine", "step"):
        return []  # off, fine, or a type error the schema reports
    return [f"train.cooldown_fraction = {fraction} decays the learning rate at the end of a "
            f"'plateau' or 'constant' schedule, but train.lr_schedule is '{schedule}', which "
            "has its own decay. To fix, remove train.cooldown_fraction (or set it to 0), or use "
            "lr_schedule = \"plateau\"."]

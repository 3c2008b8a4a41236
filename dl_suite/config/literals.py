"""Safe parsing of the Python-like literals found in INI configs (never `eval`)."""

import ast
import re

_BARE_WORD = re.compile(r"^[A-Za-z0-9_./\\:~\-]+$")
# A bare name inside a list or tuple, e.g. `[dice_coef, val_dice_coef]` (the old tool `eval`ed it).
_BARE_NAME = re.compile(r"(?<=[\[(,])\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?=[\]),])")
_KEYWORDS = {"True", "False", "None"}


class LiteralError(ValueError):
    """A value that is neither a Python literal nor a bare word; `suggestion` may hold a fix."""

    def __init__(self, text, reason, suggestion=None):
        self.text = text
        self.reason = reason
        self.suggestion = suggestion
        super().__init__(reason)


def _plain(value):
    """Tuples become lists so the JSON Schema sees arrays."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _suggest(text):
    """Guesses the intended literal for common typos (`[90. 180, 270,]` -> `[90, 180, 270]`)."""
    fixed = re.sub(r"(\d)\.\s+(\d)", r"\1, \2", text)
    fixed = re.sub(r",\s*([\]\)])", r"\1", fixed)
    if fixed == text:
        return None
    try:
        return repr(_plain(ast.literal_eval(fixed)))
    except (ValueError, SyntaxError):
        return None


def _quote_bare_names(text):
    """`[dice_coef, "iou"]` -> ["dice_coef", "iou"] (names as strings), or None."""
    def quote(match):
        name = match.group(1)
        return match.group(0) if name in _KEYWORDS else match.group(0).replace(name, repr(name))

    if not text.startswith(("[", "(")):
        return None
    try:
        return _plain(ast.literal_eval(_BARE_NAME.sub(quote, text)))
    except (ValueError, SyntaxError):
        return None


def parse_literal(text):
    """Parses one INI value.

    Python literals (`True`, `16`, `0.3`, `(3, 3)`, `["dice_coef"]`, `"text"`, `None`) are parsed
    with `ast.literal_eval`; `true` / `false` in any case are booleans too; an unquoted bare
    word or path (`./models`) is kept as a string.

    Raises:
        LiteralError: the value looks like a literal but is malformed.
    """
    text = text.strip()
    if text == "":
        return None
    try:
        return _plain(ast.literal_eval(text))
    except (ValueError, SyntaxError) as exc:
        if text.lower() in ("true", "false"):  # JSON's and other tools' spelling
            return text.lower() == "true"
        if _BARE_WORD.match(text) and not text[0].isdigit():
            return text
        quoted = _quote_bare_names(text)
        if quoted is not None:
            return quoted
        reason = getattr(exc, "msg", None) or str(exc)
        raise LiteralError(text, reason, _suggest(text)) from None


def parse_override(text):
    """Parses a `--set` value: a literal if it is one, else the raw string."""
    try:
        return parse_literal(text)
    except LiteralError:
        return text.strip()

"""A small evaluator of GitHub expressions, enough for the conditions the workflows' trust rules are written in."""

from __future__ import annotations

import re
from typing import Any

TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|&&|\|\||!|\(|\))|'(?P<str>(?:[^']|'')*)'|(?P<name>[A-Za-z_][\w.\-]*))")


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """Evaluate `${{ ... }}` like GitHub: case-insensitive string equality, missing properties are null."""
    text = expression.strip().removeprefix("${{").removesuffix("}}").strip()
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot read {text[position:]!r}"
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1

    def lookup(name: str) -> Any:
        if name in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[name]
        value: Any = context
        for part in re.findall(r"[\w\-]+", name):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def equal(left: Any, right: Any) -> bool:
        if isinstance(left, str) and isinstance(right, str):
            return left.lower() == right.lower()
        return left == right

    def parse(index: int, level: int) -> tuple[Any, int]:
        if level == 0:  # ||
            value, index = parse(index, 1)
            while index < len(tokens) and tokens[index] == ("op", "||"):
                right, index = parse(index + 1, 1)
                value = value or right
            return value, index
        if level == 1:  # &&
            value, index = parse(index, 2)
            while index < len(tokens) and tokens[index] == ("op", "&&"):
                right, index = parse(index + 1, 2)
                value = value and right
            return value, index
        if level == 2:  # ! and comparisons
            if tokens[index] == ("op", "!"):
                value, index = parse(index + 1, 2)
                return not value, index
            value, index = parse(index, 3)
            if index < len(tokens) and tokens[index] in (("op", "=="), ("op", "!=")):
                operator = tokens[index][1]
                right, index = parse(index + 1, 3)
                value = equal(value, right) is (operator == "==")
            return value, index
        kind, token = tokens[index]
        if (kind, token) == ("op", "("):
            value, index = parse(index + 1, 0)
            assert tokens[index] == ("op", ")")
            return value, index + 1
        return (token.replace("''", "'") if kind == "str" else lookup(token)), index + 1

    value, end = parse(0, 0)
    assert end == len(tokens), f"unread tokens in {text!r}"
    return value

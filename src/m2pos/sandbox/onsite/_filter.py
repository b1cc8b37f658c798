"""The ``filter=`` query parameter: a subset of Cocoa's NSPredicate syntax, compiled to SQL.

Known from real clients: ``(datetime_modified > "2015-03-23T01:32:06.310836")``, ``(code contains[cd]
"ABC")`` [V], and ``code == "SKU"`` / ``email == "a@b.c"`` without parentheses [I, a public
connector]. ``contains[cd]`` is NSPredicate's operator, so the rest of NSPredicate's grammar is the most
plausible reading [I]; the sandbox accepts:

* comparisons ``keypath OP value`` with ``==`` ``=`` ``!=`` ``<>`` ``<`` ``<=`` ``=<`` ``>`` ``>=``
  ``=>``, ``CONTAINS``, ``BEGINSWITH``, ``ENDSWITH``, ``LIKE`` (``*`` and ``?`` wildcards), ``MATCHES``
  (a regular expression, whole value), ``IN {v1, v2}``, ``BETWEEN {low, high}``;
* the modifiers ``[c]`` (case-insensitive), ``[d]`` (diacritic-insensitive), ``[cd]`` on string
  operators, ``==`` and ``IN`` included (``==`` alone is case-sensitive, as in NSPredicate);
* values: "double" or 'single' quoted strings (backslash escapes), numbers, ``TRUE``/``YES``,
  ``FALSE``/``NO``, ``NIL``/``NULL`` (``merged_to == nil``);
* ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, parentheses; keywords in any case.

Key paths (``name.first``, ``flags.current``, ``order_customer.customer``) are mapped per collection to
columns; an unknown key path is a 400.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from m2pos.sandbox.onsite._errors import bad_request

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
      | (?P<op>==|!=|<>|<=|=<|>=|=>|&&|\|\||[=<>!(){},])
      | (?P<mod>\[[cdCD]+\])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"contains", "beginswith", "endswith", "like", "matches", "in", "between"}
_SYMBOL_OPS = {"==": "==", "=": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", "=<": "<="}
_SYMBOL_OPS |= {">": ">", ">=": ">=", "=>": ">="}
_CONSTANTS: dict[str, Any] = {
    "true": True,
    "yes": True,
    "false": False,
    "no": False,
    "nil": None,
    "null": None,
}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str


def _tokens(source: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            raise bad_request(
                f"Invalid filter: unexpected text at position {pos}: {source[pos : pos + 20]!r}"
            )
        kind = match.lastgroup or ""
        out.append(Token(kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# -- SQL helper functions (registered on the connection) ------------------------------------------------


def fold(value: Any, flags: str) -> Any:
    """Normalise a value for a [c]/[d] comparison."""
    if value is None:
        return None
    out = str(value)
    if "d" in flags:
        out = "".join(ch for ch in unicodedata.normalize("NFKD", out) if not unicodedata.combining(ch))
    if "c" in flags:
        out = out.casefold()
    return out


def _like_regex(pattern: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)


def string_op(op: str, value: Any, operand: Any, flags: str) -> int | None:
    if value is None or operand is None:
        return 0
    left, right = fold(value, flags), fold(operand, flags)
    if op == "contains":
        return int(right in left)
    if op == "beginswith":
        return int(left.startswith(right))
    if op == "endswith":
        return int(left.endswith(right))
    if op == "like":
        return int(re.fullmatch(_like_regex(right), left, re.DOTALL) is not None)
    if op == "matches":
        try:
            return int(re.fullmatch(right, left) is not None)
        except re.error:
            return 0
    return 0


def register_functions(conn: Any) -> None:
    conn.create_function("ns_fold", 2, fold, deterministic=True)
    conn.create_function("ns_string_op", 4, string_op, deterministic=True)


# -- parsing to SQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    sql: str  # a column expression
    kind: str = "text"  # "text", "number", "bool", "ref" (an id, nil for none)


class _Parser:
    def __init__(self, source: str, fields: dict[str, Field]) -> None:
        self.tokens = _tokens(source)
        self.pos = 0
        self.fields = fields
        self.params: list[Any] = []

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise bad_request("Invalid filter: unexpected end of the expression.")
        self.pos += 1
        return tok

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.value.lower() in words

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.value in ops

    def parse(self) -> str:
        sql = self.or_expr()
        if self.peek() is not None:
            raise bad_request(f"Invalid filter: unexpected {self.peek().value!r}.")  # type: ignore[union-attr]
        return sql

    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while self.is_word("or") or self.is_op("||"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_expr(self) -> str:
        parts = [self.not_expr()]
        while self.is_word("and") or self.is_op("&&"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def not_expr(self) -> str:
        if self.is_word("not") or self.is_op("!"):
            self.take()
            return f"(NOT COALESCE({self.not_expr()}, 0))"
        return self.primary()

    def primary(self) -> str:
        if self.is_op("("):
            self.take()
            inner = self.or_expr()
            if not self.is_op(")"):
                raise bad_request("Invalid filter: missing ')'.")
            self.take()
            return inner
        if self.is_word("truepredicate"):
            self.take()
            return "1"
        if self.is_word("falsepredicate"):
            self.take()
            return "0"
        return self.comparison()

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return _unquote(tok.value)
        if tok.kind == "number":
            number = float(tok.value)
            return int(number) if number.is_integer() and re.fullmatch(r"[-+]?\d+", tok.value) else number
        if tok.kind == "word" and tok.value.lower() in _CONSTANTS:
            return _CONSTANTS[tok.value.lower()]
        raise bad_request(f"Invalid filter: expected a value, got {tok.value!r}.")

    def values(self) -> list[Any]:
        if not self.is_op("{"):
            raise bad_request("Invalid filter: expected '{' with a list of values.")
        self.take()
        out = [self.value()]
        while self.is_op(","):
            self.take()
            out.append(self.value())
        if not self.is_op("}"):
            raise bad_request("Invalid filter: expected '}'.")
        self.take()
        return out

    def field(self) -> Field:
        tok = self.take()
        if tok.kind != "word" or tok.value.lower() in _CONSTANTS:
            raise bad_request(f"Invalid filter: expected a field name, got {tok.value!r}.")
        name = tok.value
        found = self.fields.get(name) or self.fields.get(name.lower())
        if found is None:
            known = ", ".join(sorted(self.fields))
            raise bad_request(f"Invalid filter: unknown field '{name}' (known: {known}).")
        return found

    def param(self, fld: Field, value: Any) -> str:
        if isinstance(value, bool) or fld.kind == "bool":
            value = (
                int(bool(value)) if not isinstance(value, str) else int(value.lower() in ("true", "1", "yes"))
            )
        self.params.append(value)
        return "?"

    def comparison(self) -> str:
        fld = self.field()
        tok = self.take()
        if tok.kind == "op" and tok.value in _SYMBOL_OPS:
            op = _SYMBOL_OPS[tok.value]
        elif tok.kind == "word" and tok.value.lower() in _WORD_OPS:
            op = tok.value.lower()
        else:
            raise bad_request(f"Invalid filter: expected an operator, got {tok.value!r}.")
        flags = ""
        nxt = self.peek()
        if nxt is not None and nxt.kind == "mod":
            flags = self.take().value[1:-1].lower()
        col = fld.sql
        if op in ("in", "between"):
            items = self.values()
            if op == "between":
                if len(items) != 2:
                    raise bad_request("Invalid filter: BETWEEN needs {low, high}.")
                return f"({col} BETWEEN {self.param(fld, items[0])} AND {self.param(fld, items[1])})"
            if flags:
                marks = ", ".join(f"ns_fold({self.param(fld, v)}, '{flags}')" for v in items)
                return f"(ns_fold({col}, '{flags}') IN ({marks}))"
            return f"({col} IN ({', '.join(self.param(fld, v) for v in items)}))"
        value = self.value()
        if op in ("contains", "beginswith", "endswith", "like", "matches"):
            if value is None:
                return "0"
            return f"(ns_string_op('{op}', {col}, {self.param(fld, value)}, '{flags}') = 1)"
        if value is None:
            if op == "==":
                return f"({col} IS NULL)"
            if op == "!=":
                return f"({col} IS NOT NULL)"
            raise bad_request("Invalid filter: nil can only be compared with == or !=.")
        if flags and op in ("==", "!="):
            sql_op = "=" if op == "==" else "!="
            return f"(ns_fold({col}, '{flags}') {sql_op} ns_fold({self.param(fld, value)}, '{flags}'))"
        sql_op = {"==": "=", "!=": "!="}.get(op, op)
        if op == "!=":
            return f"({col} IS NULL OR {col} != {self.param(fld, value)})"
        return f"({col} {sql_op} {self.param(fld, value)})"


def compile_filter(source: str, fields: dict[str, Field]) -> tuple[str, list[Any]]:
    """``(sql_where, params)`` for a filter expression over the given fields."""
    if not source.strip():
        return "", []
    parser = _Parser(source, fields)
    sql = parser.parse()
    return sql, parser.params


def compile_order(source: str, fields: dict[str, Field]) -> str:
    """``order_by=field[:asc|:desc][,field…]`` → an ORDER BY clause (unknown field: 400)."""
    parts = []
    for item in filter(None, (p.strip() for p in source.split(","))):
        name, _, direction = item.partition(":")
        fld = fields.get(name) or fields.get(name.lower())
        if fld is None:
            raise bad_request(f"Invalid order_by: unknown field '{name}'.")
        direction = direction.lower() or "asc"
        if direction not in ("asc", "desc"):
            raise bad_request(f"Invalid order_by: direction must be asc or desc, got '{direction}'.")
        parts.append(f"{fld.sql} {direction.upper()}")
    return ", ".join(parts)

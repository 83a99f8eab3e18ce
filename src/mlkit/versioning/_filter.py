"""The run search language: a small filter grammar compiled to parameterised SQL.

Grammar (case-insensitive keywords)::

    expr     := term (OR term)*
    term     := factor (AND factor)*
    factor   := NOT factor | "(" expr ")" | compare
    compare  := field op value | field [NOT] IN "(" value ("," value)* ")"
              | field IS [NOT] NULL
    field    := (metrics|params|tags) "." name | [attributes "."] attribute
    name     := identifier | "quoted" | `quoted`
    op       := = | != | <> | < | <= | > | >= | LIKE | ILIKE

It is MLflow's search syntax plus OR, NOT and parentheses. Values never reach
the SQL text: every literal is a bound parameter, so a filter cannot inject SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from mlkit.errors import ConfigurationError

__all__ = ["ATTRIBUTES", "as_number", "compile_filter", "compile_order"]

# Attribute name -> column of the runs table.
ATTRIBUTES = {
    "run_id": "run_id",
    "name": "name",
    "run_name": "name",
    "status": "status",
    "start_time": "start_time",
    "end_time": "end_time",
    "parent_id": "parent_id",
}
_KINDS = ("metrics", "params", "tags")
_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
    | (?P<str>'(?:[^']|'')*')
    | (?P<dq>"(?:[^"]|"")*")
    | (?P<bq>`[^`]*`)
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),.])
    | (?P<word>[A-Za-z_][\w\-/:]*)
    )""",
    re.VERBOSE,
)
_OPS = {"=", "!=", "<>", "<", "<=", ">", ">="}


@attrs.frozen
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _error(text, pos, "a field, an operator or a value")
        kind = m.lastgroup
        assert kind is not None
        tokens.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


def _error(text: str, pos: int, expected: str) -> ConfigurationError:
    near = text[pos : pos + 20] or "the end"
    return ConfigurationError(
        f"cannot parse run filter {text!r} at position {pos} (near {near!r}): expected {expected}",
        value=text,
        expected=expected,
    )


def _unquote(tok: _Tok) -> str:
    if tok.kind == "str":
        return tok.text[1:-1].replace("''", "'")
    if tok.kind == "dq":
        return tok.text[1:-1].replace('""', '"')
    if tok.kind == "bq":
        return tok.text[1:-1]
    return tok.text


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.params: list[object] = []

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self, expected: str) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _error(self.text, len(self.text), expected)
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() in words:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        tok = self.next(repr(text))
        if tok.text.upper() != text:
            raise _error(self.text, tok.pos, repr(text))

    def parse(self) -> str:
        sql = self.expr()
        tok = self.peek()
        if tok is not None:
            raise _error(self.text, tok.pos, "AND, OR or the end of the filter")
        return sql

    def expr(self) -> str:
        parts = [self.term()]
        while self.keyword("OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self.keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        if self.keyword("NOT"):
            return f"NOT ({self.factor()})"
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.i += 1
            inner = self.expr()
            self.expect(")")
            return inner
        return self.compare()

    def field(self) -> tuple[str, str]:
        """Return (kind, name): kind is metrics/params/tags or 'attr'."""
        tok = self.next("a field such as metrics.acc, params.lr, tags.team or status")
        if tok.kind != "word" and tok.kind not in ("dq", "bq"):
            raise _error(self.text, tok.pos, "a field")
        head = _unquote(tok)
        nxt = self.peek()
        if nxt is not None and nxt.text == "." and head.lower() in (*_KINDS, "attributes"):
            self.i += 1
            name_tok = self.next("a name after the dot")
            if name_tok.kind not in ("word", "dq", "bq", "num"):
                raise _error(self.text, name_tok.pos, "a name after the dot")
            name = _unquote(name_tok)
            # Unquoted names may contain dots (metrics.val.loss); glue them back.
            while name_tok.kind == "word" and self._glue():
                name += "." + _unquote(self.next("a name"))
            if head.lower() == "attributes":
                return "attr", self._attribute(name, name_tok.pos)
            return head.lower(), name
        if "." in head or tok.kind != "word":
            raise _error(self.text, tok.pos, "metrics.<name>, params.<name>, tags.<name>")
        return "attr", self._attribute(head, tok.pos)

    def _glue(self) -> bool:
        nxt = self.peek()
        after = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        # Only a dot directly followed by a word (no space) continues a name.
        if (
            nxt is not None
            and nxt.text == "."
            and after is not None
            and after.kind == "word"
            and after.pos == nxt.pos + 1
        ):
            self.i += 1
            return True
        return False

    def _attribute(self, name: str, pos: int) -> str:
        column = ATTRIBUTES.get(name.lower())
        if column is None:
            raise _error(self.text, pos, f"one of the run attributes {sorted(ATTRIBUTES)}")
        return column

    def value(self) -> object:
        tok = self.next("a value (a number or a 'quoted string')")
        if tok.kind == "num":
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "str":
            return _unquote(tok)
        raise _error(self.text, tok.pos, "a value (a number or a 'quoted string')")

    def compare(self) -> str:
        kind, name = self.field()
        negate = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect("(")
            values = [self.value()]
            while (tok := self.peek()) is not None and tok.text == ",":
                self.i += 1
                values.append(self.value())
            self.expect(")")
            holes = ", ".join("?" for _ in values)
            op, rhs = ("NOT IN" if negate else "IN"), f"({holes})"
        elif negate:
            tok = self.peek()
            raise _error(self.text, tok.pos if tok else len(self.text), "IN after NOT")
        elif self.keyword("IS"):
            is_not = self.keyword("NOT")
            self.expect("NULL")
            return self._null_check(kind, name, present=is_not)
        else:
            tok = self.next("an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)")
            if tok.kind == "op":
                op = "!=" if tok.text == "<>" else tok.text
            elif tok.kind == "word" and tok.text.upper() in ("LIKE", "ILIKE"):
                op = tok.text.upper()
            else:
                raise _error(self.text, tok.pos, "an operator (=, !=, <, <=, >, >=, LIKE, IN)")
            values = [self.value()]
            rhs = "?"
        return self._comparison(kind, name, op, values, rhs)

    def _comparison(self, kind: str, name: str, op: str, values: list[object], rhs: str) -> str:
        numeric = all(isinstance(v, (int, float)) for v in values)
        if op in ("LIKE", "ILIKE") and numeric:
            raise _error(self.text, 0, f"a quoted pattern after {op}")
        if kind == "metrics" and not numeric:
            raise _error(self.text, 0, f"a number to compare metrics.{name} with")
        column = f"r.{name}" if kind == "attr" else "x.value"
        if op == "LIKE":
            # SQLite's LIKE ignores ASCII case; MLflow's is case-sensitive.
            lhs = f"{column} GLOB ?"
            values = [_like_to_glob(str(values[0]))]
            cond = lhs
        elif op == "ILIKE":
            cond = f"{column} LIKE ? ESCAPE '\\'"
            values = [_escape_like(str(values[0]))]
        else:
            if kind in ("params", "tags") and numeric and op != "IN" and op != "NOT IN":
                # A number compares with params/tags numerically where the text is a number.
                # mlkit_number (registered by the store) is NULL for text that is no number.
                cond = f"mlkit_number({column}) {op} {rhs}"
            elif kind in ("params", "tags"):
                values = [str(v) for v in values]
                cond = f"{column} {op} {rhs}"
            else:
                cond = f"{column} {op} {rhs}"
        if kind == "attr":
            self.params.extend(values)
            return cond
        table = {"metrics": "latest_metrics", "params": "params", "tags": "tags"}[kind]
        self.params.append(name)
        self.params.extend(values)
        # An IN over the (key, value) index visits the matching values only,
        # where a correlated EXISTS would probe every run.
        return f"r.run_id IN (SELECT x.run_id FROM {table} x WHERE x.key = ? AND {cond})"

    def _null_check(self, kind: str, name: str, *, present: bool) -> str:
        if kind == "attr":
            return f"r.{name} IS {'NOT ' if present else ''}NULL"
        table = {"metrics": "latest_metrics", "params": "params", "tags": "tags"}[kind]
        self.params.append(name)
        exists = f"r.run_id IN (SELECT x.run_id FROM {table} x WHERE x.key = ?)"
        return exists if present else f"NOT {exists}"


def as_number(text: object) -> float | None:
    """Return ``text`` as a float, or None when it is no number (SQL function ``mlkit_number``)."""
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _like_to_glob(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def _escape_like(pattern: str) -> str:
    # The user's % and _ stay wildcards; only our escape character needs escaping.
    return pattern.replace("\\", "\\\\")


def compile_filter(text: str | None) -> tuple[str, list[object]]:
    """Compile a run filter into a SQL condition on alias ``r`` and its parameters."""
    if text is None or not text.strip():
        return "1", []
    parser = _Parser(text)
    sql = parser.parse()
    return sql, parser.params


_ORDER = re.compile(r"^\s*(?P<field>.+?)(?:\s+(?P<dir>ASC|DESC))?\s*$", re.IGNORECASE)


def compile_order(order_by: Sequence[str]) -> tuple[list[str], list[str], list[object]]:
    """Compile ``order_by`` into (joins, ORDER BY terms, parameters).

    Runs missing the metric, param or tag sort last, whatever the direction.
    """
    if isinstance(order_by, str):
        order_by = [order_by]
    joins: list[str] = []
    terms: list[str] = []
    params: list[object] = []
    for i, item in enumerate(order_by):
        m = _ORDER.match(item)
        if m is None:
            raise ConfigurationError(
                f"cannot parse order_by item {item!r}", value=item, expected="'<field> [ASC|DESC]'"
            )
        direction = (m.group("dir") or "ASC").upper()
        parser = _Parser(m.group("field"))
        kind, name = parser.field()
        if parser.peek() is not None:
            raise _error(item, parser.peek().pos, "a single field then ASC or DESC")  # type: ignore[union-attr]
        if kind == "attr":
            terms.append(f"r.{name} IS NULL, r.{name} {direction}")
            continue
        table = {"metrics": "latest_metrics", "params": "params", "tags": "tags"}[kind]
        alias = f"o{i}"
        joins.append(f"LEFT JOIN {table} {alias} ON {alias}.run_id = r.run_id AND {alias}.key = ?")
        params.append(name)
        terms.append(f"{alias}.value IS NULL, {alias}.value {direction}")
    return joins, terms, params

"""The rule language of tags and segments: a small, safe expression over a doctor's fields and
activity, parsed with Lark and compiled to a Django ``Q`` — so a rule runs inside the database
as one query, with every value passed as a parameter. No rule can name a table, a column or a
function that is not in the lists below, so none can run arbitrary SQL.

Grammar (case-insensitive keywords; ≥ ≤ ≠ are accepted for >= <= !=)::

    rule        := or
    or          := and ("or" and)*
    and         := not ("and" not)*
    not         := "not" not | "(" rule ")" | comparison
    comparison  := operand OP value | operand ["not"] "in" "(" value ("," value)* ")"
    operand     := FIELD | FUNCTION "(" [NAME "=" value ("," NAME "=" value)*] ")"
    value       := NUMBER | "text" | 'text'

Fields: ``title``, ``position``, ``gender``, ``specialty``, ``city``, ``province``,
``hco_level``, ``hco_type``, ``department`` (the standard department's code or name).

Functions (activity from the rollups and deliveries, never raw events):

* ``events(name="Content Read", days=30, channel="wecom")`` — events on the doctor's timeline
  (with days of 7, 14, 30, 60, 90, 180 or 365 and no channel, counted from the per-doctor
  activity windows, ``tracking.windows``; otherwise summed from the daily rollups);
* ``reads(therapy_area="心血管", topic="高血压", days=30)`` — content deliveries the doctor
  opened, optionally of one therapy area or topic;
* ``read_through(days=30)`` — deliveries read to the end;
* ``quiz_score(days=90)`` — the doctor's average quiz score (a doctor without one never matches);
* ``answers(days=90)`` — quiz and survey responses;
* ``tag(name="学术影响力")`` — 1 when the doctor has the tag, else 0 (``tag(name=…) = 1``).

Example: ``reads(therapy_area="心血管", days=30) >= 3 and quiz_score(days=90) >= 80``.

A rule that does not parse, names an unknown field, function or argument, or compares a text
field with a number is refused with ``RuleError`` pointing at the line and column of the token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from lark import Lark, Token, Transformer
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from omnihcp.engagement.models import Delivery, Response
from omnihcp.profiles.models import HCPTag
from omnihcp.tracking.models import HcpActivityWindow, HcpDailyActivity
from omnihcp.tracking.windows import WINDOWS, windows_as_of

MAX_RULE = 2000
MAX_DAYS = 3650

GRAMMAR = r"""
?start: or_
?or_: and_ (_OR and_)*
?and_: not_ (_AND not_)*
?not_: _NOT not_ -> negate
     | "(" or_ ")"
     | comparison
comparison: operand OP value             -> compare
          | operand _IN "(" values ")"    -> member
          | operand _NOT _IN "(" values ")" -> not_member
values: value ("," value)*
operand: NAME                            -> field
       | NAME "(" [arg ("," arg)*] ")"   -> function
arg: NAME "=" value
value: SIGNED_NUMBER -> number
     | STRING        -> text
OP: ">=" | "<=" | "!=" | "≥" | "≤" | "≠" | "=" | ">" | "<"
STRING: /"[^"\n]*"/ | /'[^'\n]*'/ | /“[^”\n]*”/
NAME: /(?!(and|or|not|in)\b)[A-Za-z_][A-Za-z0-9_]*/i
_AND: /and\b/i | "且"
_OR: /or\b/i | "或"
_NOT: /not\b/i | "非"
_IN: /in\b/i
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


class RuleError(ValueError):
    """A refused rule, with where: ``line`` and ``column`` (1-based) of the offending token."""

    def __init__(self, message: str, *, line: int = 1, column: int = 1, token: str = "") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.token = message, line, column, token

    def __str__(self) -> str:
        where = _("line %(line)s, column %(column)s") % {"line": self.line, "column": self.column}
        return f"{self.message} ({where})"


# Fields of the HCP a rule may compare: name → (ORM path, kind).
FIELDS: dict[str, tuple[str, str]] = {
    "title": ("title", "text"),
    "position": ("position", "text"),
    "gender": ("gender", "text"),
    "specialty": ("specialty", "text"),
    "city": ("primary_hco__city", "text"),
    "province": ("primary_hco__province", "text"),
    "hco_level": ("primary_hco__level", "text"),
    "hco_type": ("primary_hco__hco_type", "text"),
    "department": ("department__standard__code", "text"),
}
# Functions: name → the arguments each accepts (and their kind).
FUNCTIONS: dict[str, dict[str, str]] = {
    "events": {"name": "text", "days": "number", "channel": "text"},
    "reads": {"therapy_area": "text", "topic": "text", "days": "number", "channel": "text"},
    "read_through": {"days": "number", "therapy_area": "text"},
    "quiz_score": {"days": "number"},
    "answers": {"days": "number"},
    "tag": {"name": "text"},
}
# What the rule editor's help lists (templates/profiles/_rule_help.html).
HELP = {"fields": FIELDS, "functions": FUNCTIONS}
_LOOKUPS = {
    "=": "exact",
    ">": "gt",
    ">=": "gte",
    "≥": "gte",
    "<": "lt",
    "<=": "lte",
    "≤": "lte",
}


_HOLDS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda count, value: count == value,
    "gt": lambda count, value: count > value,
    "gte": lambda count, value: count >= value,
    "lt": lambda count, value: count < value,
    "lte": lambda count, value: count <= value,
    "in": lambda count, values: count in values,
}


@dataclass(frozen=True)
class Operand:
    """A compiled left-hand side: an ORM path to compare, and annotations it needs — or
    ``test(lookup, value)``, which builds the comparison itself (a semi-join)."""

    path: str
    kind: str  # "text" or "number"
    annotations: dict[str, Any]
    token: Any
    test: Callable[[str, Any], Q] | None = None


@dataclass(frozen=True)
class Compiled:
    """A rule as a filter on HCPs: ``HCP.objects.alias(**aliases).filter(q)``."""

    q: Q
    aliases: dict[str, Any]
    text: str

    def apply(self, queryset: Any) -> Any:
        return (
            queryset.alias(**self.aliases).filter(self.q)
            if self.aliases
            else queryset.filter(self.q)
        )


def _position(node: Any) -> tuple[int, int]:
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    return getattr(node, "line", 1) or 1, getattr(node, "column", 1) or 1


def _fail(message: str, node: Any) -> RuleError:
    line, column = _position(node)
    return RuleError(message, line=line, column=column, token=str(node)[:40])


def _days(args: dict[str, tuple[Any, Token]], default: int) -> int:
    value = args.get("days", (default, None))[0]
    if not 1 <= value <= MAX_DAYS or value != int(value):
        message = _("days must be a whole number from 1 to %(n)s.") % {"n": MAX_DAYS}
        raise _fail(message, args["days"][1])
    return int(value)


class _Compiler(Transformer[Token, Any]):
    def __init__(self, today: dt.date) -> None:
        super().__init__()
        self.today = today
        self.count = 0
        self.pending: dict[str, Any] = {}  # annotations the compiled Q needs
        self._windows: bool | None = None

    def windows_ready(self) -> bool:
        """Whether the activity windows end on the rule's day (read once per rule)."""
        if self._windows is None:
            self._windows = windows_as_of() == self.today
        return self._windows

    def _alias(self) -> str:
        self.count += 1
        return f"rule_{self.count}"

    # values
    def number(self, items: list[Token]) -> tuple[float, Token]:
        number = float(items[0])
        return (int(number) if number.is_integer() else number), items[0]

    def text(self, items: list[Token]) -> tuple[str, Token]:
        return items[0][1:-1], items[0]

    def values(self, items: list[tuple[Any, Token]]) -> list[tuple[Any, Token]]:
        return items

    def arg(self, items: list[Any]) -> tuple[str, tuple[Any, Token], Token]:
        name, value = items
        return str(name).lower(), value, name

    # operands
    def field(self, items: list[Token]) -> Operand:
        name = items[0]
        known = FIELDS.get(str(name).lower())
        if known is None:
            if str(name).lower() in FUNCTIONS:
                raise _fail(_("%(name)s is a function: write %(name)s(…).") % {"name": name}, name)
            raise _fail(
                _("Unknown field %(name)s. Fields: %(fields)s.")
                % {"name": name, "fields": ", ".join(FIELDS)},
                name,
            )
        return Operand(known[0], known[1], {}, name)

    def function(self, items: list[Any]) -> Operand:
        name, *raw_args = items
        key = str(name).lower()
        accepted = FUNCTIONS.get(key)
        if accepted is None:
            raise _fail(
                _("Unknown function %(name)s. Functions: %(functions)s.")
                % {"name": name, "functions": ", ".join(FUNCTIONS)},
                name,
            )
        args: dict[str, tuple[Any, Token]] = {}
        for arg_name, value, token in (a for a in raw_args if a is not None):
            if arg_name not in accepted:
                raise _fail(
                    _("%(function)s() has no argument %(arg)s; it takes %(args)s.")
                    % {"function": key, "arg": token, "args": ", ".join(accepted)},
                    token,
                )
            if arg_name in args:
                raise _fail(_("%(arg)s is given twice.") % {"arg": token}, token)
            kind = "number" if isinstance(value[0], int | float) else "text"
            if kind != accepted[arg_name]:
                message = (
                    _("%(arg)s must be a number.")
                    if accepted[arg_name] == "number"
                    else _("%(arg)s must be text in quotes.")
                )
                raise _fail(message % {"arg": token}, value[1])
            args[arg_name] = value
        return _FUNCTION_BUILDERS[key](self, args, name)

    # comparisons
    def compare(self, items: list[Any]) -> Q:
        operand: Operand = items[0]
        op, (value, token) = items[1], items[2]
        kind = "number" if isinstance(value, int | float) else "text"
        if kind != operand.kind:
            raise _fail(
                _("%(name)s is a number: compare it with a number.") % {"name": operand.token}
                if operand.kind == "number"
                else _("%(name)s is text: put the value in quotes.") % {"name": operand.token},
                token,
            )
        if operand.kind == "text" and str(op) not in ("=", "!=", "≠"):
            raise _fail(_("Text can only be compared with = or !=."), op)
        self.pending.update(operand.annotations)
        if str(op) in ("!=", "≠"):
            if operand.test is not None:
                return ~operand.test("exact", value)
            return ~Q(**{operand.path: value})
        if operand.test is not None:
            return operand.test(_LOOKUPS[str(op)], value)
        return Q(**{f"{operand.path}__{_LOOKUPS[str(op)]}": value})

    def member(self, items: list[Any]) -> Q:
        operand: Operand = items[0]
        values = items[1]
        for value, token in values:
            if isinstance(value, int | float) != (operand.kind == "number"):
                raise _fail(_("All values must be of the field's kind."), token)
        self.pending.update(operand.annotations)
        if operand.test is not None:
            return operand.test("in", [v for v, _t in values])
        return Q(**{f"{operand.path}__in": [v for v, _t in values]})

    def not_member(self, items: list[Any]) -> Q:
        return ~self.member(items)

    def and_(self, items: list[Q]) -> Q:
        result = items[0]
        for item in items[1:]:
            result &= item
        return result

    def or_(self, items: list[Q]) -> Q:
        result = items[0]
        for item in items[1:]:
            result |= item
        return result

    def negate(self, items: list[Q]) -> Q:
        return ~items[0]


def _since(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days - 1)


def _window_test(event: str, column: str) -> Callable[[str, Any], Q]:
    """A comparison of a doctor's window count as EXISTS on the windows table (one probe of
    its (hcp, event) key per doctor, or a semi-join where the planner prefers): doctors with a
    row that holds, or — when a count of 0 holds too, as in ``< 3`` — doctors without a row
    that fails (a doctor without a row has 0)."""

    def test(lookup: str, value: Any) -> Q:
        rows = HcpActivityWindow.objects.filter(hcp_id=OuterRef("pk"), event=event)
        condition = Q(**{f"{column}__{lookup}": value})
        if _HOLDS[lookup](0, value):
            return ~Q(Exists(rows.exclude(condition)))
        return Q(Exists(rows.filter(condition)))

    return test


def _events(compiler: _Compiler, args: dict[str, Any], name: Token) -> Operand:
    days = _days(args, 30)
    if days in WINDOWS and "channel" not in args and compiler.windows_ready():
        test = _window_test(args["name"][0] if "name" in args else "", f"d{days}")
        return Operand(f"d{days}", "number", {}, name, test)
    rows = HcpDailyActivity.objects.filter(
        hcp_id=OuterRef("pk"), day__gte=_since(compiler.today, days)
    )
    if "name" in args:
        rows = rows.filter(event=args["name"][0])
    if "channel" in args:
        rows = rows.filter(channel=args["channel"][0])
    total = rows.order_by().values("hcp_id").annotate(n=Sum("count")).values("n")
    alias = compiler._alias()
    return Operand(alias, "number", {alias: Coalesce(Subquery(total), Value(0))}, name)


def _deliveries(compiler: _Compiler, args: dict[str, Any], *, through: bool) -> Any:
    start = timezone.make_aware(
        dt.datetime.combine(_since(compiler.today, _days(args, 30)), dt.time.min)
    )
    rows = Delivery.objects.filter(hcp_id=OuterRef("pk"), opened_at__gte=start)
    if through:
        rows = rows.filter(read_through=True)
    if "therapy_area" in args:
        rows = rows.filter(item__therapy_area__name=args["therapy_area"][0])
    if "topic" in args:
        rows = rows.filter(item__topics__contains=[args["topic"][0]])
    if "channel" in args:
        rows = rows.filter(channel=args["channel"][0])
    return rows.order_by().values("hcp_id").annotate(n=Count("id")).values("n")


def _reads(compiler: _Compiler, args: dict[str, Any], name: Token) -> Operand:
    alias = compiler._alias()
    total = _deliveries(compiler, args, through=False)
    return Operand(alias, "number", {alias: Coalesce(Subquery(total), Value(0))}, name)


def _read_through(compiler: _Compiler, args: dict[str, Any], name: Token) -> Operand:
    alias = compiler._alias()
    total = _deliveries(compiler, args, through=True)
    return Operand(alias, "number", {alias: Coalesce(Subquery(total), Value(0))}, name)


def _responses(compiler: _Compiler, args: dict[str, Any], default_days: int) -> Any:
    start = timezone.make_aware(
        dt.datetime.combine(_since(compiler.today, _days(args, default_days)), dt.time.min)
    )
    return Response.objects.filter(hcp_id=OuterRef("pk"), submitted_at__gte=start).order_by()


def _quiz_score(compiler: _Compiler, args: dict[str, Any], name: Token) -> Operand:
    alias = compiler._alias()
    average = (
        _responses(compiler, args, 90)
        .filter(score__isnull=False)
        .values("hcp_id")
        .annotate(n=Avg("score"))
        .values("n")
    )
    return Operand(alias, "number", {alias: Subquery(average)}, name)


def _answers(compiler: _Compiler, args: dict[str, Any], name: Token) -> Operand:
    alias = compiler._alias()
    total = _responses(compiler, args, 90).values("hcp_id").annotate(n=Count("id")).values("n")
    return Operand(alias, "number", {alias: Coalesce(Subquery(total), Value(0))}, name)


def _tag(compiler: _Compiler, args: dict[str, Any], name: Token) -> Operand:
    if "name" not in args:
        raise _fail(_('tag() needs name="…".'), name)
    rows = (
        HCPTag.objects.filter(hcp_id=OuterRef("pk"), definition__name=args["name"][0])
        .order_by()
        .values("hcp_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    alias = compiler._alias()
    return Operand(alias, "number", {alias: Coalesce(Subquery(rows), Value(0))}, name)


_FUNCTION_BUILDERS: dict[str, Callable[[_Compiler, dict[str, Any], Token], Operand]] = {
    "events": _events,
    "reads": _reads,
    "read_through": _read_through,
    "quiz_score": _quiz_score,
    "answers": _answers,
    "tag": _tag,
}


def rule_compile(text: str, *, today: dt.date | None = None) -> Compiled:
    """Parse and compile a rule; ``RuleError`` names what is wrong and where."""
    if not text.strip():
        raise RuleError(_("Write a rule."))
    if len(text) > MAX_RULE:
        raise RuleError(_("A rule has at most %(n)s characters.") % {"n": MAX_RULE})
    try:
        tree = _PARSER.parse(text)
    except UnexpectedEOF:
        lines = text.splitlines() or [""]
        raise RuleError(
            _("The rule ends too early."), line=len(lines), column=len(lines[-1]) + 1
        ) from None
    except UnexpectedCharacters as exc:
        char = text[exc.pos_in_stream or 0]
        raise RuleError(
            _("Unexpected character %(char)s.") % {"char": repr(char)},
            line=exc.line,
            column=exc.column,
            token=char,
        ) from None
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            lines = text.splitlines() or [""]
            raise RuleError(
                _("The rule ends too early."), line=len(lines), column=len(lines[-1]) + 1
            ) from None
        raise RuleError(
            _("Unexpected %(token)s here.") % {"token": repr(str(token))},
            line=token.line or 1,
            column=token.column or 1,
            token=str(token),
        ) from None
    except UnexpectedInput as exc:  # any other refusal of the parser
        raise RuleError(_("This rule cannot be read."), line=exc.line, column=exc.column) from None
    compiler = _Compiler(today or timezone.localdate())
    try:
        q = compiler.transform(tree)
    except VisitError as exc:  # Lark wraps what the compiler refused
        if isinstance(exc.orig_exc, RuleError):
            raise exc.orig_exc from None
        raise
    if not isinstance(q, Q):
        raise RuleError(_('A rule must compare something, e.g. title = "chief_physician".'))
    return Compiled(q=q, aliases=compiler.pending, text=text)


__all__ = ["FIELDS", "FUNCTIONS", "HELP", "Compiled", "RuleError", "rule_compile"]

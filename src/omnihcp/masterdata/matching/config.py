"""The linkage config: which column of a file plays which role, read from TOML (``tomllib``).

A role tells the engine how to standardise and compare a column; the engine itself is Splink on
DuckDB (``matching.linkage``). A people file for ``omnihcp mdm dedupe``::

    record_id = "person_id"          # required, unique within each file
    given_name = "first_name"        # or person_name = "full_name"
    family_name = "surname"
    date = "date_of_birth"           # ISO, 03/05/1980, 1980年3月5日, 5 March 1980 …
    address = "address"
    postcode = "postcode"
    gender = "sex"                   # 男 / M / male are one value, 女 / F / female another
    exact = ["nationality"]          # compared as equal / not equal
    fuzzy = ["occupation"]           # compared by Jaro-Winkler similarity
    date_order = "dmy"               # how to read 03/05/1980: dmy (default) or mdy

    [thresholds]
    cluster = 0.9                    # dedupe: pairs at or above this join one cluster
    floor = 0.01                     # pairs below this are not written

Free-text hospital names against the HCO master for ``omnihcp mdm link``; when the two files
name their columns differently, a ``[left]`` / ``[right]`` table overrides the top-level roles
for that side (a dedupe reads the left side)::

    record_id = "customer_no"
    organisation_name = "customer_name"
    city = "customer_city"

    [right]
    record_id = "hco_code"
    organisation_name = "name"
    city = "city"

Roles: record_id, person_name, given_name, family_name, organisation_name, city, date, address,
postcode, phone, department, title, licence, gender (男/女, M/F, male/female … read alike),
exact, fuzzy. Both sides of a link must map the
same roles. Every mistake raises ``ApplicationError`` naming the key or the missing column.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError

TEXT_ROLES = (
    "person_name",
    "given_name",
    "family_name",
    "organisation_name",
    "city",
    "date",
    "address",
    "postcode",
    "phone",
    "department",
    "title",
    "licence",
    "gender",
)
LIST_ROLES = ("exact", "fuzzy")
ROLES = ("record_id", *TEXT_ROLES, *LIST_ROLES)
DATE_ORDERS = ("dmy", "mdy")
DEFAULT_CLUSTER_THRESHOLD = 0.9
DEFAULT_PAIR_FLOOR = 0.01


@dataclass(frozen=True)
class Roles:
    """Column names by role for one file; ``None`` (or empty) where the role is not mapped."""

    record_id: str
    person_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    organisation_name: str | None = None
    city: str | None = None
    date: str | None = None
    address: str | None = None
    postcode: str | None = None
    phone: str | None = None
    department: str | None = None
    title: str | None = None
    licence: str | None = None
    gender: str | None = None
    exact: tuple[str, ...] = ()
    fuzzy: tuple[str, ...] = ()

    def mapped(self) -> dict[str, str]:
        """Role → column for every mapped role; list roles as ``exact[0]``, ``fuzzy[1]`` …"""
        out: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple):
                out.update({f"{field.name}[{i}]": column for i, column in enumerate(value)})
            elif value:
                out[field.name] = value
        return out

    def shape(self) -> tuple[str, ...]:
        """The roles this file maps, without column names: both sides of a link must agree."""
        return tuple(role for role in self.mapped() if role != "record_id")

    @property
    def has_person(self) -> bool:
        return bool(self.person_name or self.given_name or self.family_name)


@dataclass(frozen=True)
class LinkageConfig:
    left: Roles
    right: Roles
    cluster_threshold: float = DEFAULT_CLUSTER_THRESHOLD
    pair_floor: float = DEFAULT_PAIR_FLOOR
    date_order: str = "dmy"

    def digest(self) -> str:
        """What a saved model was trained on: the roles and columns, not the thresholds."""
        payload = json.dumps(
            {"left": self.left.mapped(), "right": self.right.mapped()}, sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def with_thresholds(
        self, *, cluster_threshold: float | None = None, pair_floor: float | None = None
    ) -> LinkageConfig:
        """The config with the command line's thresholds, checked like the file's."""
        cluster = self.cluster_threshold if cluster_threshold is None else cluster_threshold
        floor = self.pair_floor if pair_floor is None else pair_floor
        _check_probability(cluster, "thresholds.cluster")
        _check_probability(floor, "thresholds.floor")
        return replace(self, cluster_threshold=cluster, pair_floor=floor)


def config_error(message: str, key: str) -> ApplicationError:
    return ApplicationError(message, field=key, code="linkage_config")


def _check_probability(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise config_error(
            _("“%(key)s” must be a probability between 0 and 1.") % {"key": key}, key
        )
    return float(value)


def _roles_from(table: dict[str, Any], prefix: str) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if key not in ROLES:
            raise config_error(
                _("Unknown key “%(key)s” in the linkage config; the roles are: %(roles)s.")
                % {"key": name, "roles": ", ".join(ROLES)},
                name,
            )
        if key in LIST_ROLES:
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise config_error(
                    _("“%(key)s” must be a list of column names.") % {"key": name}, name
                )
            roles[key] = tuple(v.strip() for v in value)
        elif not isinstance(value, str) or not value.strip():
            raise config_error(_("“%(key)s” must be a column name.") % {"key": name}, name)
        else:
            roles[key] = value.strip()
    return roles


def _side(base: dict[str, Any], override: dict[str, Any], side: str) -> Roles:
    roles = {**base, **override}
    if "record_id" not in roles:
        raise config_error(
            _("The linkage config has no “record_id”: name the column that identifies a record."),
            "record_id",
        )
    mapped = Roles(**roles)
    if not mapped.shape():
        raise config_error(
            _("The linkage config maps no role to compare on (%(side)s file).") % {"side": side},
            "record_id",
        )
    if mapped.person_name and (mapped.given_name or mapped.family_name):
        raise config_error(
            _("Map either “person_name” or “given_name”/“family_name”, not both."), "person_name"
        )
    return mapped


def parse_config(data: dict[str, Any]) -> LinkageConfig:
    """A config from parsed TOML."""
    base: dict[str, Any] = {}
    sides: dict[str, dict[str, Any]] = {"left": {}, "right": {}}
    cluster, floor, date_order = DEFAULT_CLUSTER_THRESHOLD, DEFAULT_PAIR_FLOOR, "dmy"
    for key, value in data.items():
        if key in sides:
            if not isinstance(value, dict):
                raise config_error(_("“%(key)s” must be a table.") % {"key": key}, key)
            sides[key] = _roles_from(value, f"{key}.")
        elif key == "thresholds":
            if not isinstance(value, dict):
                raise config_error(_("“%(key)s” must be a table.") % {"key": key}, key)
            for name, threshold in value.items():
                if name == "cluster":
                    cluster = _check_probability(threshold, "thresholds.cluster")
                elif name == "floor":
                    floor = _check_probability(threshold, "thresholds.floor")
                else:
                    raise config_error(
                        _("Unknown key “%(key)s”; thresholds are “cluster” and “floor”.")
                        % {"key": f"thresholds.{name}"},
                        f"thresholds.{name}",
                    )
        elif key == "date_order":
            if value not in DATE_ORDERS:
                raise config_error(
                    _("“date_order” must be one of: %(choices)s.")
                    % {"choices": ", ".join(DATE_ORDERS)},
                    key,
                )
            date_order = value
        else:
            base.update(_roles_from({key: value}, ""))
    left = _side(base, sides["left"], "left")
    right = _side(base, sides["right"], "right")
    if left.shape() != right.shape():
        raise config_error(
            _(
                "The left and right files must map the same roles "
                "(left: %(left)s; right: %(right)s)."
            )
            % {"left": ", ".join(left.shape()), "right": ", ".join(right.shape())},
            "right",
        )
    return LinkageConfig(
        left=left, right=right, cluster_threshold=cluster, pair_floor=floor, date_order=date_order
    )


def load_config(path: Path) -> LinkageConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise config_error(
            _("Cannot read the linkage config %(path)s: %(error)s")
            % {"path": path, "error": exc.strerror},
            "config",
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise config_error(
            _("The linkage config %(path)s is not valid TOML: %(error)s")
            % {"path": path, "error": exc},
            "config",
        ) from exc
    return parse_config(data)


def check_columns(roles: Roles, columns: list[str], *, label: str) -> None:
    """Every mapped column must be in the file's header."""
    missing = [(role, column) for role, column in roles.mapped().items() if column not in columns]
    if missing:
        role, column = missing[0]
        raise config_error(
            _(
                "Column “%(column)s” (role “%(role)s”) is not in %(file)s; "
                "its columns are: %(columns)s."
            )
            % {"column": column, "role": role, "file": label, "columns": ", ".join(columns)},
            role,
        )

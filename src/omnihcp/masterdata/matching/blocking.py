"""Blocking rules for the roles a config maps (Splink's ``block_on`` and SQL equi-joins):
the rules that pick candidate pairs, the near-certain rules that estimate how common matches
are, and the rules of the EM training sessions."""

from __future__ import annotations

from splink import block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from omnihcp.masterdata.matching.comparisons import RoleComparison


def _rules(columns: set[str], candidates: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    def needs(expression: str) -> str:
        return expression.split("(")[-1].split(",")[0].strip(") ")

    return [rule for rule in candidates if all(needs(e) in columns for e in rule)]


def blocking_rules_for(columns: set[str]) -> list[BlockingRuleCreator]:
    """Several rules, so that a typo in any one field does not lose a pair."""
    if "name_py" in columns:
        # A name alone pairs every 张伟 of the country with every other: the pairs grow with
        # the square of a name's frequency, so where a place is known the name is paired
        # within it (its city, or its institution when the city is missing).
        places: list[tuple[str, ...]] = [
            ("name_py", p) for p in ("city", "org_key") if p in columns
        ]
        candidates: list[tuple[str, ...]] = [
            *(places or [("name_py",)]),
            ("name_init", "date"),
            ("family_key", "date"),  # a typo in the given name moves its initial …
            ("given_key", "date"),  # … and one in the family name moves the other
            ("date", "postcode"),
            ("name_init", "postcode"),
            ("name_init", "org_key"),
            # The institution without its places: a hospital written without its city, or
            # with the city misspelt, in a record that names no city.
            ("name_py", "org_core"),
            *([] if "org_key" in columns else [("name_init", "city")]),
            ("phone",),
            ("licence",),
        ]
    elif "org_key" in columns:
        candidates = [
            ("org_key",),
            ("substr(org_key, 1, 4)",),
            ("city", "substr(org_key, 1, 2)"),
            # The name's last four characters ("人民医院", "pital"): catches a name missing its
            # city prefix or with a typo at the start, within one city.
            ("city", "substr(org_key, -4)"),
            ("postcode", "substr(org_key, 1, 2)"),
            ("phone",),
            ("licence",),
        ]
    else:
        candidates = [
            *[(c,) for c in ("phone", "licence", "postcode", "date", "address", "city")],
            *[(c,) for c in sorted(columns) if c.startswith("exact_")],
            *[(f"substr({c}, 1, 3)",) for c in sorted(columns) if c.startswith("fuzzy_")],
        ]
    rules = [block_on(*rule) for rule in _rules(columns, candidates)]
    if "name_alt" in columns:
        # "Wei Zhang" / 张伟: the rotated name of one record is the pinyin of the other.
        within = " AND l.city = r.city" if "city" in columns else ""
        rules[1:1] = [
            CustomRule(f"l.name_py = r.name_alt{within}"),
            CustomRule(f"l.name_alt = r.name_py{within}"),
        ]
    return rules


def deterministic_rules_for(columns: set[str]) -> list[BlockingRuleCreator]:
    """Rules that admit almost no false matches, to estimate how common matches are."""
    if "name_py" in columns:
        candidates: list[tuple[str, ...]] = [
            ("name_std", "date"),
            ("name_std", "phone"),
            ("name_std", "org_key"),
            ("name_std", "postcode"),
            ("name_std", "address"),
            ("licence",),
        ]
    else:
        candidates = [
            ("org_name", "city"),
            ("org_key", "city"),
            ("org_key", "postcode"),
            ("org_key", "address"),
            ("phone",),
            ("licence",),
        ]
    return [block_on(*rule) for rule in _rules(columns, candidates)]


def _identifiable(trained: list[RoleComparison]) -> bool:
    """Whether a two-class latent model over these comparisons has fewer parameters than its
    data have cells (one comparison never does; two binary ones do not; three do)."""
    cells = 1
    for comparison in trained:
        cells *= comparison.levels
    return cells - 1 >= 1 + 2 * sum(c.levels - 1 for c in trained)


def training_keys_for(
    columns: set[str], comparisons: dict[str, RoleComparison]
) -> list[tuple[str, ...]]:
    """EM sessions, as the columns each blocks on: each trains the comparisons its rule does
    not use, where EM can identify them; comparisons no session can train keep their prior
    m probabilities."""
    candidates = ["name_py", "org_key", "date", "postcode", "phone", "city", "licence"]
    rules: list[tuple[str, ...]] = []
    untrained = set(comparisons)
    for column in candidates:
        if column not in columns or not untrained:
            continue
        # Names and institutions within a city: the whole country's 张伟 would give EM
        # tens of millions of pairs to iterate over, and tell it nothing more.
        keys = (
            (column, "city")
            if column in {"name_py", "org_key"} and "city" in columns
            else (column,)
        )
        trained = {name for name, c in comparisons.items() if not any(k in c.columns for k in keys)}
        if trained & untrained and _identifiable([comparisons[name] for name in trained]):
            rules.append(keys)
            untrained -= trained
    return rules


def sampled_rule(keys: tuple[str, ...], share: float) -> BlockingRuleCreator:
    """The rule blocking on ``keys``, keeping only about ``share`` of its pairs: those whose
    first key falls in a fixed slice of md5 values (the same slice on every run and engine
    that has md5, as DuckDB and Spark do), so a block is kept whole or not at all."""
    equal = " AND ".join(f"l.{key} = r.{key}" for key in keys)
    if share >= 1:
        return block_on(*keys)
    cut = max(1, round(share * 256))
    return CustomRule(f"{equal} AND substr(md5(l.{keys[0]}), 1, 2) < '{cut:02x}'")

"""Training a Splink model, deterministically: the share of matching pairs from near-certain
rules, u by random sampling with a fixed seed, m by expectation maximisation on blocking rules
(only where EM can identify them, see ``blocking``), then m shrunk a little towards our priors.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Callable
from typing import Any

from splink import Linker, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.exceptions import SplinkException

from omnihcp.masterdata.matching.blocking import (
    deterministic_rules_for,
    sampled_rule,
    training_keys_for,
)
from omnihcp.masterdata.matching.comparisons import comparisons_for

logger = logging.getLogger(__name__)

SEED = 20240601
U_MAX_PAIRS = 400_000
# Recall we assume for the near-certain rules (same name and birth date, same hospital name and
# city …) when estimating how many pairs match; typos and format changes hide the rest.
DETERMINISTIC_RECALL = 0.7
# EM gives m = 0 to a level no true match reached in the training pairs, and so a weight of
# -30 bits that one typo in a new file would turn into a certain non-match. Mixing in 5 % of
# the prior (a pseudo-count) keeps every weight finite and barely moves the others.
PRIOR_SHARE = 0.05
# Pairs an EM session iterates over at most. Every doctor of a big hospital paired with every
# other is tens of millions of pairs at national scale; a fixed slice of the hospitals (or
# names) teaches EM the same m values in a fraction of the time.
EM_MAX_PAIRS = 2_000_000


def _estimate_match_share(linker: Linker, columns: set[str], prior: float) -> None:
    deterministic = deterministic_rules_for(columns)
    settings = linker._settings_obj  # Splink has no public setter for this parameter
    if deterministic:
        for recall in (DETERMINISTIC_RECALL, 1.0):
            try:
                linker.training.estimate_probability_two_random_records_match(
                    list(deterministic), recall=recall
                )
                break
            except ValueError:  # the rules found more pairs than this recall allows
                continue
    # No pair met the rules: keep the prior rather than declare every pair a non-match.
    if not 0 < settings._probability_two_random_records_match < 1:
        settings._probability_two_random_records_match = prior


def _finish(
    trained: dict[str, Any], priors: dict[str, Any], *, sampled: int, nested: dict[str, int]
) -> dict[str, Any]:
    """The trained parameters, made safe for small and for lopsided files.

    m moves towards the priors by ``PRIOR_SHARE``. u came from random pairs, which include the
    true matches in proportion λ: negligible in a big dedupe, but against a master of a few
    hundred records one random pair in a few hundred is a match, and u of an exact name match
    would look a hundred times too common. So u := (u - λ·m) / (1 - λ), the non-match share
    alone. A level no sampled pair reached gets the upper bound of its u (rule of three,
    3 / pairs sampled), not Splink's generic default.
    """
    floor = min(3 / max(sampled, 1), 0.5)
    share = trained["probability_two_random_records_match"]
    model = copy.deepcopy(trained)
    for comparison, prior in zip(model["comparisons"], priors["comparisons"], strict=True):
        levels = [
            (level, prior_level)
            for level, prior_level in zip(
                comparison["comparison_levels"], prior["comparison_levels"], strict=True
            )
            if not level.get("is_null_level")
        ]
        for level, prior_level in levels:
            m = level.get("m_probability", prior_level["m_probability"])
            m = (1 - PRIOR_SHARE) * m + PRIOR_SHARE * prior_level["m_probability"]
            u = level.get("u_probability")
            level["m_probability"] = m
            level["u_probability"] = floor if u is None else max((u - share * m) / (1 - share), 0)
        for key in ("m_probability", "u_probability"):
            total = sum(level[key] for level, _ in levels)
            for level, _ in levels:
                level[key] /= total
        # After the correction a level may have no non-matches left: floor it, once normalised.
        for level, _ in levels:
            level["u_probability"] = max(level["u_probability"], min(floor, level["m_probability"]))
        _nest(levels, nested.get(comparison["output_column_name"], 0))
    return model


def _nest(levels: list[tuple[dict[str, Any], dict[str, Any]]], count: int) -> None:
    """No level among the first ``count`` may weigh more than the one before it: u values
    near zero are noise, and noise must not rank "same institution" above "same name"."""
    for (before, _), (level, _) in itertools.pairwise(levels[:count]):
        ratio = before["m_probability"] / before["u_probability"]
        if level["m_probability"] / level["u_probability"] > ratio:
            level["u_probability"] = level["m_probability"] / ratio


def train(
    linker: Linker,
    columns: set[str],
    *,
    prior: float,
    pairs: int,
    count_pairs: Callable[[BlockingRuleCreator], int],
    label: str | None = None,
    true_pairs: int = 0,
) -> dict[str, Any]:
    """Estimate the model's parameters on the linker's records (``pairs`` possible pairs,
    ``count_pairs`` of a rule's); return its settings.

    With a ``label`` column (each record's true entity, ``true_pairs`` pairs sharing one),
    λ and m are counted from the labels rather than estimated: a model with too few
    comparisons for EM to tell matches apart (an institution's name and city) still learns
    how often a true match agrees at each level."""
    priors = linker.misc.save_model_to_json()
    if label:
        settings = linker._settings_obj  # Splink has no public setter for this parameter
        settings._probability_two_random_records_match = max(true_pairs, 1) / max(pairs, 1)
    else:
        _estimate_match_share(linker, columns, prior)
    # A labelled file is small and its model must tell near-certain pairs apart: sample more.
    sampled = min(pairs, U_MAX_PAIRS * (10 if label else 1))
    linker.training.estimate_u_using_random_sampling(max_pairs=sampled, seed=SEED)
    if label:
        linker.training.estimate_m_from_label_column(label)
        return _finish(
            linker.misc.save_model_to_json(),
            priors,
            sampled=sampled,
            nested={name: c.nested for name, c in comparisons_for(columns).items()},
        )
    for keys in training_keys_for(columns, comparisons_for(columns)):
        rule = sampled_rule(keys, EM_MAX_PAIRS / max(count_pairs(block_on(*keys)), 1))
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except (SplinkException, ValueError, ZeroDivisionError) as exc:
            # Too few pairs under this rule to learn from: its comparisons keep their priors.
            logger.info("EM training skipped for %s: %s", rule, exc)
    nested = {name: c.nested for name, c in comparisons_for(columns).items()}
    return _finish(
        linker.misc.save_model_to_json(),
        priors,
        sampled=min(pairs, U_MAX_PAIRS),
        nested=nested,
    )

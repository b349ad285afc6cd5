"""The reasons of automated suggestions, kept as data (``Suggestion.evidence``) and rendered in
the reader's language: a rep in Shanghai reads Chinese, an auditor in Basel English, and both
read what the suggestion rested on when it was made (PIPL Art. 24)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _one(evidence: dict[str, Any]) -> str:
    why = evidence.get("why", "")
    if why == "similar":
        if not evidence.get("titles"):
            return _("Doctors who read what this doctor read also read this.")
        return _("Doctors who read %(titles)s also read this.") % {
            "titles": "、".join(f"《{t}》" for t in evidence.get("titles", []))
        }
    if why == "interests":
        return _("Matches their interests: %(terms)s.") % {
            "terms": "、".join(evidence.get("terms", []))
        }
    if why == "popular":
        text = ngettext(
            "Opened by %(n)s doctor in the last 90 days.",
            "Opened by %(n)s doctors in the last 90 days.",
            evidence.get("opened", 0),
        ) % {"n": evidence.get("opened", 0)}
        if evidence.get("opted_out"):
            text += " " + _("Not personalised: the doctor opted out of personalisation.")
        elif evidence.get("new"):
            text += " " + _("Too little history to personalise yet.")
        return text
    if why == "hot_read":
        return ngettext(
            "Read 《%(title)s》 to the end %(days)s day ago.",
            "Read 《%(title)s》 to the end %(days)s days ago.",
            evidence.get("days", 0),
        ) % {"title": evidence.get("title", ""), "days": evidence.get("days", 0)}
    if why == "quiz":
        if evidence.get("score") is None:
            return _("Answered the survey of 《%(title)s》.") % {"title": evidence.get("title", "")}
        return _("Scored %(score)s in the quiz of 《%(title)s》.") % {
            "score": evidence.get("score"),
            "title": evidence.get("title", ""),
        }
    if why == "adoption":
        from omnihcp.profiles.models import AdoptionStage  # models render their reasons here

        stage = evidence.get("stage", "")
        return _("Engagement suggests %(product)s stage “%(stage)s”: confirm it.") % {
            "product": evidence.get("product", ""),
            "stage": AdoptionStage(stage).label if stage in AdoptionStage.values else stage,
        }
    if why == "call_gap":
        return _("Tier %(tier)s for %(product)s: %(planned)s calls a month, %(done)s so far.") % {
            "tier": evidence.get("tier", ""),
            "product": evidence.get("product", ""),
            "planned": evidence.get("planned", 0),
            "done": evidence.get("done", 0),
        }
    if why == "dormant":
        if evidence.get("days") is None:
            return _("Tier %(tier)s and never contacted.") % {"tier": evidence.get("tier", "")}
        return _("Tier %(tier)s and no contact for %(days)s days.") % {
            "tier": evidence.get("tier", ""),
            "days": evidence.get("days"),
        }
    return ""


def reason_text(evidence: dict[str, Any]) -> str:
    """The main reason, then the others that also speak for the suggestion."""
    parts = [_one(evidence), *(_one(e) for e in evidence.get("also", []))]
    return " ".join(p for p in parts if p)

"""Versions of the trained matching model that online matching and the importer use.

``omnihcp mdm train FILE`` trains the HCP model on a file of source records (the roles of
``data/hcp_master.toml``; ``--entity hco`` the HCO model, roles of ``data/hco_master.toml``,
``--label COLUMN`` from a file whose records carry their true entity) and stores it as the
next version, active from then on; the earlier versions stay, so a decision's explanation
(which names its model) can be traced. With no version stored the model shipped in
``data/`` is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max

from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.matching import online
from omnihcp.masterdata.matching.files import read_table
from omnihcp.masterdata.matching.linkage import train_model
from omnihcp.masterdata.models_matching import MatchingModel


def _reset_hco() -> None:
    from omnihcp.masterdata.matching import online_hco

    online_hco.SCORER.reset()


def _user(actor: Actor | None) -> Any:
    """The CLI's system actor is recorded as nobody."""
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def matching_model_store(
    *,
    actor: Actor | None,
    entity_type: str,
    splink_settings: dict[str, Any],
    config_digest: str,
    trained_on: str,
    records: int,
) -> MatchingModel:
    """Store a trained model as the entity type's next version and make it the active one."""
    latest = MatchingModel.objects.select_for_update().filter(entity_type=entity_type)
    version = (latest.aggregate(v=Max("version"))["v"] or 0) + 1
    latest.filter(active=True).update(active=False)
    row = MatchingModel.objects.create(
        entity_type=entity_type,
        version=version,
        config_digest=config_digest,
        splink_settings=splink_settings,
        trained_on=trained_on[:255],
        records=records,
        active=True,
        created_by=_user(actor),
    )
    audit_append(
        actor=actor,
        action="matching_model.create",
        object_type="matching_model",
        object_id=row.pk,
        after={"entity_type": entity_type, "version": version, "records": records},
    )
    transaction.on_commit(online.SCORER.reset)
    transaction.on_commit(_reset_hco)
    return row


def model_train(
    *, actor: Actor | None, path: Path, entity_type: str = "hcp", label: str | None = None
) -> MatchingModel:
    """Train the HCP (or HCO) model on a file of source records and store it as the next
    version; ``label`` names a column of true entity ids, when the file has one."""
    from omnihcp.masterdata.matching import online_hco

    config = online.hcp_config() if entity_type == "hcp" else online_hco.hco_config()
    model, count = train_model(read_table(path).rows, config, source=path.name, label=label)
    return matching_model_store(
        actor=actor,
        entity_type=entity_type,
        splink_settings=model.splink_settings,
        config_digest=model.config_digest,
        trained_on=path.name,
        records=count,
    )

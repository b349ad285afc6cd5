"""A trained linkage model on disk: Splink's own JSON settings (comparisons, blocking rules, m and
u probabilities) under a small header with our model version and the config's digest, so that
a model is never applied to columns it was not trained on.

    {"omnihcp_linkage_model": {"version": 1, "config_digest": "…", "splink_version": "4.0.17"},
     "splink": {…Splink settings…}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError

# Bump when prepared columns or comparisons change meaning: older models must then be retrained.
MODEL_VERSION = 1
HEADER = "omnihcp_linkage_model"


@dataclass(frozen=True)
class LinkageModel:
    config_digest: str
    splink_settings: dict[str, Any]
    version: int = MODEL_VERSION


def _model_error(path: Path, message: str) -> ApplicationError:
    return ApplicationError(
        _("Cannot use the model %(path)s: %(error)s") % {"path": path, "error": message},
        field="model",
        code="linkage_model",
    )


def model_save(model: LinkageModel, path: Path) -> None:
    body = {
        HEADER: {
            "version": model.version,
            "config_digest": model.config_digest,
            "splink_version": version("splink"),
        },
        "splink": model.splink_settings,
    }
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")


def model_load(path: Path, *, config_digest: str) -> LinkageModel:
    """A saved model, refused when it is of another version or trained on another config."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _model_error(path, exc.strerror or str(exc)) from exc
    except ValueError as exc:
        raise _model_error(path, str(exc)) from exc
    header = body.get(HEADER) if isinstance(body, dict) else None
    if not isinstance(header, dict) or not isinstance(body.get("splink"), dict):
        raise _model_error(path, _("this is not an OmniHCP linkage model."))
    if header.get("version") != MODEL_VERSION:
        raise _model_error(
            path,
            _("it is model version %(found)s; this OmniHCP needs version %(needed)s. Retrain it.")
            % {"found": header.get("version"), "needed": MODEL_VERSION},
        )
    if header.get("config_digest") != config_digest:
        raise _model_error(
            path, _("it was trained with a different linkage config (other roles or columns).")
        )
    return LinkageModel(config_digest=config_digest, splink_settings=body["splink"])

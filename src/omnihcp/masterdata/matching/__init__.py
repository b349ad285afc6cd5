"""Record linkage for any person or organisation file: ``omnihcp mdm dedupe`` and ``mdm link``.

Built on Splink 4 with the DuckDB backend. ``config`` maps a file's columns to roles, ``files``
reads CSV and Excel, ``prepare`` standardises each role with ``masterdata.standardise``,
``comparisons`` and ``blocking`` hold the Splink comparisons and blocking rules, ``training``
estimates the model, ``linkage`` predicts and clusters, and ``model`` saves and loads it.
"""

from omnihcp.masterdata.matching.config import LinkageConfig, Roles, load_config, parse_config
from omnihcp.masterdata.matching.files import Table, read_table
from omnihcp.masterdata.matching.linkage import DedupeResult, LinkResult, dedupe, link
from omnihcp.masterdata.matching.model import LinkageModel, model_load, model_save

__all__ = [
    "DedupeResult",
    "LinkResult",
    "LinkageConfig",
    "LinkageModel",
    "Roles",
    "Table",
    "dedupe",
    "link",
    "load_config",
    "model_load",
    "model_save",
    "parse_config",
    "read_table",
]

"""``omnihcp mdm``: master-data tools that work on files, one subcommand each.

``omnihcp mdm import FILE --source CODE [--entity hcp|hco] [--name NAME]`` imports one HCP or HCO
file into the master (``masterdata.importing.services.import_file``) and prints its report.
``omnihcp mdm dedupe FILE --config MAP --out DIR`` writes ``DIR/clusters.csv``
(``record_id,cluster_id``) and ``DIR/pairs.csv`` (``left_id,right_id,match_probability``);
``omnihcp mdm link LEFT RIGHT --config MAP --out FILE`` writes the pairs of a left and a right
record. The engine is ``masterdata.matching`` (Splink on DuckDB, or on Spark with
``--engine spark``); the config format is in
``masterdata.matching.config``; these two touch no database.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
import time
from argparse import ArgumentParser
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.importing import selectors as import_selectors
from omnihcp.masterdata.importing import services as import_services
from omnihcp.masterdata.importing.report import report_lines
from omnihcp.masterdata.matching import (
    LinkageConfig,
    LinkageModel,
    dedupe,
    link,
    load_config,
    model_load,
    model_save,
    read_table,
)
from omnihcp.masterdata.matching.linkage import CLUSTER_COLUMNS, PAIR_COLUMNS
from omnihcp.masterdata.models import ImportBatch, SourceRecord


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def _write_csv(path: Path, header: list[str], rows: Iterable[Sequence[object]]) -> None:
    """Write next to the target and rename, so a failed run leaves no half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _pair_rows(pairs: Any) -> Iterable[tuple[str, str, str]]:
    for left_id, right_id, probability in pairs[PAIR_COLUMNS].itertuples(index=False):
        yield left_id, right_id, f"{probability:.6f}"


class Command(BaseCommand):
    help = (
        "Master-data file tools: 'import' a source file, 'dedupe' a file or 'link' two files "
        "(Splink on DuckDB)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        # One subparser per tool; more (e.g. "import") are added the same way.
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        dedupe_parser = subcommands.add_parser(
            "dedupe", help="find the records of one file that are the same person or organisation"
        )
        dedupe_parser.add_argument("file", type=Path, help="CSV or .xlsx")
        dedupe_parser.add_argument(
            "--out", type=Path, required=True, help="folder for clusters.csv and pairs.csv"
        )
        dedupe_parser.add_argument(
            "--threshold", type=_probability, help="cluster threshold (default from the config)"
        )
        link_parser = subcommands.add_parser(
            "link", help="score pairs of a left and a right record (e.g. free text vs master)"
        )
        link_parser.add_argument("left", type=Path, help="CSV or .xlsx")
        link_parser.add_argument("right", type=Path, help="CSV or .xlsx")
        link_parser.add_argument("--out", type=Path, required=True, help="the pairs CSV to write")
        import_parser = subcommands.add_parser(
            "import", help="import an HCP or HCO file (CSV or .xlsx, UTF-8 or GBK) from a source"
        )
        import_parser.add_argument("file", type=Path)
        import_parser.add_argument("--source", required=True, help="the source's code")
        import_parser.add_argument(
            "--entity",
            choices=["hcp", "hco"],
            help="what the source's files hold; needed the first time a source is named",
        )
        import_parser.add_argument("--name", default="", help="the source's name, for a new source")
        platform_parser = subcommands.add_parser(
            "platform-import", help="import a doctor platform's user list and match it to HCPs"
        )
        platform_parser.add_argument("file", type=Path, help="CSV or .xlsx")
        platform_parser.add_argument("--platform", required=True, help="the platform's code")
        platform_parser.add_argument("--platform-name", default="", help="the platform's name")
        train_parser = subcommands.add_parser(
            "train",
            help="train the HCP (or HCO) matching model on a file of source records and make "
            "it the active version",
        )
        train_parser.add_argument(
            "file", type=Path, help="CSV or .xlsx, roles as data/hcp_master.toml (hco_master)"
        )
        train_parser.add_argument("--entity", choices=["hcp", "hco"], default="hcp")
        train_parser.add_argument(
            "--label", help="a column of true entity ids: m is counted from labelled pairs"
        )
        for sub in (dedupe_parser, link_parser):
            sub.add_argument("--config", type=Path, required=True, help="TOML role mapping")
            sub.add_argument(
                "--floor", type=_probability, help="lowest probability written to the pairs"
            )
            sub.add_argument("--model", type=Path, help="reuse this trained model; do not train")
            sub.add_argument("--save-model", type=Path, help="write the trained model here")
            sub.add_argument(
                "--engine",
                choices=["duckdb", "spark"],
                default="duckdb",
                help="where Splink runs: DuckDB in this process, or Spark (the 'spark' extra)",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "import":
            self.import_file(options)
            return
        if options["subcommand"] == "train":
            self.train(options)
            return
        if options["subcommand"] == "platform-import":
            self.platform_import(options)
            return
        started = time.perf_counter()
        if options["verbosity"] < 2:
            # Splink narrates every training step; the summary below is what users need.
            logging.getLogger("splink").setLevel(logging.ERROR)
        try:
            config = load_config(options["config"]).with_thresholds(
                cluster_threshold=options.get("threshold"), pair_floor=options["floor"]
            )
            model = (
                model_load(options["model"], config_digest=config.digest())
                if options["model"]
                else None
            )
            if options["subcommand"] == "dedupe":
                trained = self.dedupe(options, config, model, started)
            else:
                trained = self.link(options, config, model, started)
            if options["save_model"]:
                model_save(trained, options["save_model"])
                self.stdout.write(_("Model saved to %(path)s.") % {"path": options["save_model"]})
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except OSError as exc:  # an output folder that cannot be written, a full disk
            raise CommandError(
                _("Cannot write %(path)s: %(error)s")
                % {"path": exc.filename, "error": exc.strerror}
            ) from exc

    def train(self, options: dict[str, Any]) -> None:
        from omnihcp.masterdata.matching.versions import model_train

        started = time.perf_counter()
        if options["verbosity"] < 2:
            logging.getLogger("splink").setLevel(logging.WARNING)
        try:
            row = model_train(
                actor=None,
                path=options["file"],
                entity_type=options["entity"],
                label=options["label"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            _(
                "%(entity)s matching model version %(version)d trained on %(records)d records "
                "in %(seconds).1f s; it is now the active model."
            )
            % {
                "entity": options["entity"].upper(),
                "version": row.version,
                "records": row.records,
                "seconds": time.perf_counter() - started,
            }
        )

    def platform_import(self, options: dict[str, Any]) -> None:
        from omnihcp.masterdata import platform_report, platform_users

        path: Path = options["file"]
        try:
            user_list = platform_users.platform_list_import(
                actor=None,
                platform=options["platform"],
                platform_name=options["platform_name"],
                file_name=path.name,
                content=path.read_bytes(),
            )
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if user_list.status != user_list.Status.DONE:
            raise CommandError(user_list.error)
        counts = platform_report.platform_report(user_list=user_list).overall
        self.stdout.write(
            _(
                "%(users)d users (%(rejected)d rows rejected): %(auto)d matched automatically, "
                "%(review)d to review, %(unmatched)d not matched; match rate %(rate).1f %%; "
                "in %(seconds).1f s. List %(id)s."
            )
            % {
                "users": counts.total,
                "rejected": user_list.rejected,
                "auto": counts.auto + counts.confirmed,
                "review": counts.review,
                "unmatched": counts.unmatched,
                "rate": counts.match_rate,
                "seconds": user_list.seconds or 0,
                "id": user_list.pk,
            }
        )

    def dedupe(
        self,
        options: dict[str, Any],
        config: LinkageConfig,
        model: LinkageModel | None,
        started: float,
    ) -> LinkageModel:
        table = read_table(options["file"])
        result = dedupe(
            table.rows, config, model=model, source=options["file"].name, engine=options["engine"]
        )
        out: Path = options["out"]
        _write_csv(out / "pairs.csv", PAIR_COLUMNS, _pair_rows(result.pairs))
        _write_csv(
            out / "clusters.csv",
            CLUSTER_COLUMNS,
            result.clusters[CLUSTER_COLUMNS].itertuples(index=False),
        )
        self.stdout.write(
            _(
                "%(records)d records, %(pairs)d pairs at or above %(floor)s, %(clusters)d "
                "clusters at %(threshold)s, in %(seconds).1f s: %(out)s"
            )
            % {
                "records": len(table.rows),
                "pairs": len(result.pairs),
                "floor": config.pair_floor,
                "clusters": result.clusters["cluster_id"].nunique(),
                "threshold": config.cluster_threshold,
                "seconds": time.perf_counter() - started,
                "out": out,
            }
        )
        return result.model

    def link(
        self,
        options: dict[str, Any],
        config: LinkageConfig,
        model: LinkageModel | None,
        started: float,
    ) -> LinkageModel:
        left, right = read_table(options["left"]), read_table(options["right"])
        result = link(
            left.rows,
            right.rows,
            config,
            model=model,
            sources=(options["left"].name, options["right"].name),
            engine=options["engine"],
        )
        _write_csv(options["out"], PAIR_COLUMNS, _pair_rows(result.pairs))
        self.stdout.write(
            _(
                "%(left)d left and %(right)d right records, %(pairs)d pairs at or above "
                "%(floor)s (%(linked)d left records with a candidate), in %(seconds).1f s: "
                "%(out)s"
            )
            % {
                "left": len(left.rows),
                "right": len(right.rows),
                "pairs": len(result.pairs),
                "floor": config.pair_floor,
                "linked": result.pairs["left_id"].nunique(),
                "seconds": time.perf_counter() - started,
                "out": options["out"],
            }
        )
        return result.model

    def import_file(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        source = import_selectors.import_source_find(code=options["source"])
        try:
            if source is None:
                if not options["entity"]:
                    raise CommandError(_("A new source needs --entity hcp or --entity hco."))
                source = import_services.import_source_create(
                    actor=None,
                    code=options["source"],
                    name=options["name"],
                    entity_type=options["entity"],
                )
            elif options["entity"] and options["entity"] != source.entity_type:
                raise CommandError(
                    _("The source %(code)s holds %(held)s records, not %(asked)s.")
                    % {
                        "code": source.code,
                        "held": source.get_entity_type_display(),
                        "asked": SourceRecord.EntityType(options["entity"]).label,
                    }
                )
            batch = import_services.import_file(
                actor=None, source=source, file_name=path.name, content=path.read_bytes()
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write("\n".join(report_lines(batch)))
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(batch.error)

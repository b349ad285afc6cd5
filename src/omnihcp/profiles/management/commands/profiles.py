"""``omnihcp profiles``: the profile jobs on demand, one subcommand each.

``omnihcp profiles recompute`` recomputes every rule tag for every active doctor (what the
nightly job does) and prints how many tags changed and how long it took.
``omnihcp profiles nbc-train`` trains the next-best-content model on all engagement and makes
it current (``profiles.recommend.nbc_train``). ``omnihcp profiles nbc-evaluate
[--test-share 0.2] [--doctors 20000] [--json]`` trains on the earlier engagement, tests on the
later, and prints recall@10 and NDCG@10 of the hybrid, of collaborative filtering alone and
of the popularity baseline.
"""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from omnihcp.profiles.recommend import nbc_evaluate, nbc_train
from omnihcp.profiles.services import tags_recompute_all


class Command(BaseCommand):
    help = "Profile jobs: recompute rule tags, train and evaluate next best content."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("recompute", help="every rule tag for every active doctor")
        commands.add_parser("nbc-train", help="train the next-best-content model")
        evaluate = commands.add_parser("nbc-evaluate", help="time-split hold-out evaluation")
        evaluate.add_argument("--test-share", type=float, default=0.2)
        evaluate.add_argument("--doctors", type=int, default=20_000)
        evaluate.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["command"] == "recompute":
            changed = tags_recompute_all()
            self.stdout.write(
                f"Rule tags recomputed in {time.perf_counter() - started:.1f}s: {changed} changed"
            )
        elif options["command"] == "nbc-train":
            result = nbc_train()
            self.stdout.write(
                f"Model trained in {time.perf_counter() - started:.1f}s "
                f"(read {result.read_seconds:.1f}s, fit {result.fit_seconds:.1f}s): "
                f"{result.doctors} doctors, {result.items} items, {result.pairs} pairs"
            )
        else:
            if not 0 < options["test_share"] < 1:
                raise CommandError("--test-share must be between 0 and 1")
            found = nbc_evaluate(test_share=options["test_share"], max_doctors=options["doctors"])
            figures = {
                "split_day": found.split_day.isoformat(),
                "train_pairs": found.train_pairs,
                "test_doctors": found.test_doctors,
                "fit_seconds": round(found.fit_seconds, 2),
                "recall@10": {k: round(v, 4) for k, v in found.recall.items()},
                "ndcg@10": {k: round(v, 4) for k, v in found.ndcg.items()},
            }
            if options["json"]:
                self.stdout.write(json.dumps(figures))
            else:
                for name in found.recall:
                    self.stdout.write(
                        f"{name:<14} recall@10 {found.recall[name]:.4f}  "
                        f"NDCG@10 {found.ndcg[name]:.4f}"
                    )

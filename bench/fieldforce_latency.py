"""Signal-to-task latency (issue 6): a doctor's deep read accepted by the tracking API → the
owning rep's task visible and the WeCom app message received by a fake WeCom server, with the
production processes running: ``omnihcp web`` (gunicorn), ``omnihcp worker`` and
``omnihcp scheduler``, on SQLite and PostgreSQL.

Setup, not timed: a demo company (``omnihcp demo --hcps 2000 --no-engagement``), a tracking
source, platform users linked to the Hangzhou rep's doctors, and a local server speaking
WeCom's ``gettoken`` and ``message/send`` that notes when each message arrives.

Then ``--signals`` deep reads ("Content Read"), each by another doctor, sent one at a time
with random gaps of 1–8 s (so they fall at every point of the scheduler's cycle); for each,
the seconds from the API's answer to the task row's ``created_at`` and to the message's
arrival. The run fails if a message is missing or duplicated.

    .venv/bin/python bench/fieldforce_latency.py                       # both backends
    .venv/bin/python bench/fieldforce_latency.py --backends sqlite --signals 20

Prints a table and writes ``bench/results/fieldforce-latency.json``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    OMNIHCP,
    RESULTS,
    WORK_ROOT,
    Database,
    free_port,
    machine_info,
    migrate,
    percentile,
    run_checked,
    source_info,
    table,
    wait_listening,
    write_json,
)

SETUP = """
import json
from omnihcp.masterdata.models import ExternalIdentity
from omnihcp.masterdata.selectors import hcp_list
from omnihcp.org.models import User
from omnihcp.org.selectors import scope_for_user
from omnihcp.tracking.services import source_create
_source, key = source_create(actor=None, name="Bench platform", code="bench")
scope = scope_for_user(user=User.objects.get(username="rep_hangzhou"))
doctors = list(hcp_list(scope=scope).order_by("id")[:{n}])
for i, hcp in enumerate(doctors):
    ExternalIdentity.objects.create(source="bench", external_id=f"doc-{{i}}", hcp=hcp)
print(json.dumps({{"key": key, "names": [d.name for d in doctors]}}, ensure_ascii=False))
"""
TASKS = """
import json
from omnihcp.fieldforce.models import Task
rows = Task.objects.filter(source="hot_signal", assignee__user__username="rep_hangzhou")
print(json.dumps([[t.hcp.name, t.created_at.timestamp()] for t in rows], ensure_ascii=False))
"""


class _WeCom(BaseHTTPRequestHandler):
    received: list[tuple[float, dict[str, Any]]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # /cgi-bin/gettoken
        self._answer({"errcode": 0, "errmsg": "ok", "access_token": "t", "expires_in": 7200})

    def do_POST(self) -> None:  # /cgi-bin/message/send
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if urlsplit(self.path).path == "/cgi-bin/message/send" and parse_qs(
            urlsplit(self.path).query
        ).get("access_token") == ["t"]:
            self.received.append((time.time(), body))
        self._answer({"errcode": 0, "errmsg": "ok", "msgid": str(len(self.received))})


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(OMNIHCP), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def measure(backend: str, signals: int) -> dict[str, Any]:
    db = Database(backend=backend, name=f"omnihcp_bench_latency_{backend}")
    db.create()
    received: list[tuple[float, dict[str, Any]]] = []
    handler = type("Handler", (_WeCom,), {"received": received})
    wecom = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=wecom.serve_forever, daemon=True).start()
    env = db.env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="127.0.0.1",
        OMNIHCP_WECOM_API_BASE=f"http://127.0.0.1:{wecom.server_address[1]}/cgi-bin/",
        OMNIHCP_WECOM_CORP_ID="bench-corp",
        OMNIHCP_WECOM_SECRET="bench-secret",  # noqa: S106 — the fake server's
        OMNIHCP_WECOM_AGENT_ID="1000002",
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        migrate(db)
        run_checked([str(OMNIHCP), "demo", "--hcps", "2000", "--no-engagement"], env)
        facts = json.loads(
            run_checked([str(OMNIHCP), "shell", "-c", SETUP.format(n=signals)], env)
            .strip()
            .splitlines()[-1]
        )
        port = free_port()
        logs = WORK_ROOT / "logs"
        web = _start(
            ["web", "--workers", "2", "--threads", "2", "--bind", f"127.0.0.1:{port}"],
            env,
            logs / f"latency-web-{backend}.log",
        )
        procs.append(web)
        procs.append(_start(["worker"], env, logs / f"latency-worker-{backend}.log"))
        procs.append(_start(["scheduler"], env, logs / f"latency-scheduler-{backend}.log"))
        wait_listening(port, web)
        time.sleep(25)  # the first hand-off run sets its cursor; the queue is drained
        token = base64.b64encode(f"{facts['key']}:".encode()).decode()
        head = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        rng = random.Random(11)
        sent: dict[str, float] = {}
        for i, name in enumerate(facts["names"]):
            body: dict[str, Any] = {
                "userId": f"doc-{i}",
                "event": "Content Read",
                "messageId": f"latency-{i}",
                "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                "properties": {"channel": "wecom", "title": "高血压长期管理"},
            }
            response = requests.post(
                f"http://127.0.0.1:{port}/api/v1/track", json=body, headers=head, timeout=30
            )
            if response.status_code != 200:
                raise RuntimeError(f"track refused: {response.status_code} {response.text}")
            sent[name] = time.time()
            time.sleep(rng.uniform(1, 8))
        deadline = time.time() + 180
        while time.time() < deadline:
            got = {
                b["textcard"]["title"] for _t, b in received if b.get("touser") == "rep_hangzhou"
            }
            if all(any(n in title for title in got) for n in sent):
                break
            time.sleep(1)
        time.sleep(5)  # a duplicate would arrive now
        tasks = json.loads(
            run_checked([str(OMNIHCP), "shell", "-c", TASKS], env).strip().splitlines()[-1]
        )
    finally:
        for proc in procs:
            _stop(proc)
        wecom.shutdown()
        db.drop()
    messages: dict[str, list[float]] = {}
    for at, card in received:
        if card.get("touser") != "rep_hangzhou":
            continue
        for name in sent:
            if name in card["textcard"]["title"]:
                messages.setdefault(name, []).append(at)
    missing = [n for n in sent if n not in messages]
    doubled = [n for n, times in messages.items() if len(times) > 1]
    if missing or doubled:
        raise RuntimeError(f"messages missing {missing}, sent twice {doubled}")
    task_at = dict(tasks)
    to_task = [task_at[n] - sent[n] for n in sent]
    to_message = [messages[n][0] - sent[n] for n in sent]
    return {
        "signals": len(sent),
        "task_s": {
            "p50": statistics.median(to_task),
            "p95": percentile(to_task, 95),
            "max": max(to_task),
        },
        "message_s": {
            "p50": statistics.median(to_message),
            "p95": percentile(to_message, 95),
            "max": max(to_message),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--signals", type=int, default=40)
    args = parser.parse_args()
    results = {b: measure(b, args.signals) for b in args.backends}
    rows = [
        [
            b,
            str(r["signals"]),
            "{p50:.1f} / {p95:.1f} / {max:.1f}".format(**r["task_s"]),
            "{p50:.1f} / {p95:.1f} / {max:.1f}".format(**r["message_s"]),
        ]
        for b, r in results.items()
    ]
    heads = ["backend", "signals", "to task p50/p95/max s", "to WeCom message p50/p95/max s"]
    print(table(heads, rows))
    write_json(
        RESULTS / "fieldforce-latency.json",
        {"machine": machine_info(), "source": source_info(), "results": results},
    )


if __name__ == "__main__":
    main()

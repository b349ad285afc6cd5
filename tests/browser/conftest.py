"""The browser journeys' world: a real OmniHCP server with its own demo company, and Chromium.

The rest of the suite shares one pytest-django test database (rolled back per test), so the
journeys must not touch it: live_server or transactional_db would flush it. Instead this
package starts ``omnihcp serve`` in a subprocess on a database of its own — a file in a temp
dir on SQLite, or a throwaway database next to ``DATABASE_URL`` on PostgreSQL — fills it with
``omnihcp demo``, and drives Debian's Chromium through Playwright's sync API.

One server and one browser serve the whole package (both torn down when it ends, so no event
loop of Playwright's lingers into the other tests); every test gets fresh browser contexts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from omnihcp.demo.cast import DEMO_PASSWORD
from tests.browser.support import Doctor, Login, NewPage, PageAs, Site, press

# The ``omnihcp`` command of the Python running the tests (.venv/bin/omnihcp).
OMNIHCP = str(Path(sys.executable).parent / "omnihcp")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_HCPS = 2_000
START_TIMEOUT = 120.0
TIMEOUT_MS = 15_000

SCREENS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}

# Run in the server's own database (``omnihcp shell -c``): the people and records the journeys
# speak of. Printed as one JSON line after a marker, so shell chatter is ignored.
FACTS_MARKER = "BROWSER-FACTS:"
FACTS_SCRIPT = f"""
import json
from omnihcp.org.models import User
from omnihcp.org.selectors import scope_for_user
from omnihcp.masterdata.selectors import hcp_list, hcp_search, hco_list

hangzhou = scope_for_user(user=User.objects.get(username="rep_hangzhou"))
beijing = scope_for_user(user=User.objects.get(username="rep_beijing"))
doctor = None
for hcp in hcp_list(scope=hangzhou).exclude(mobile_masked="").order_by("name_pinyin", "id"):
    hits = hcp_search(scope=hangzhou, q=hcp.name_pinyin, limit=50)
    # A name few others share, so the search box surely lists this doctor.
    if len(hcp.name_pinyin) >= 6 and hcp.pk in [hit.pk for hit in hits[:5]]:
        doctor = hcp
        break
assert doctor is not None, "no doctor with a phone in rep_hangzhou's scope"
hangzhou_ids = hcp_list(scope=hangzhou).values("id")
elsewhere = hcp_list(scope=beijing).exclude(id__in=hangzhou_ids).first()
assert elsewhere is not None, "no doctor only rep_beijing covers"
# The tracking journey's platform user, already matched to the doctor by master data.
from omnihcp.masterdata.models import ExternalIdentity
for screen in ("phone", "desktop"):
    ExternalIdentity.objects.get_or_create(
        source=f"journey-{{screen}}", external_id="u-journey", hcp=doctor
    )
# An approved article the delivery journey shares.
import datetime as dt
from django.utils import timezone
from omnihcp.engagement import services as content
from omnihcp.org.models import Product
product = Product.objects.order_by("code").first()
article = content.content_create(
    actor=User.objects.get(username="marketing"),
    draft=content.ContentDraft(
        title="旅程测试：高血压长期管理", kind="article", therapy_area_id=product.therapy_area_id,
        body=chr(10).join(["血压控制目标与随访。"] * 80),
    ),
)
content.content_submit(actor=User.objects.get(username="marketing"), item=article)
content.content_approve(
    actor=User.objects.get(username="medical"), item=article, approval_number="MLR-J-1",
    valid_from=timezone.localdate(), valid_until=timezone.localdate() + dt.timedelta(days=30),
)
# An approved quiz (the builder's page) and a campaign of the article (its report page).
from omnihcp.engagement import questionnaire, campaigns
from omnihcp.core.scope import DataScope
quiz = content.content_create(
    actor=User.objects.get(username="marketing"),
    draft=content.ContentDraft(
        title="旅程测试：降压测验", kind="quiz", therapy_area_id=product.therapy_area_id,
        body="两道题。",
    ),
)
for text, options in (("降压目标？", ["<140/90", "* <130/80"]), ("首选？", ["* ACEI", "地高辛"])):
    questionnaire.question_add(
        actor=User.objects.get(username="marketing"), item=quiz,
        draft=questionnaire.QuestionDraft(kind="single", text=text, options=chr(10).join(options)),
    )
content.content_submit(actor=User.objects.get(username="marketing"), item=quiz)
content.content_approve(
    actor=User.objects.get(username="medical"), item=quiz, approval_number="MLR-J-2",
    valid_from=timezone.localdate(), valid_until=timezone.localdate() + dt.timedelta(days=30),
)
campaign = campaigns.campaign_create(
    actor=User.objects.get(username="marketing"), scope=DataScope.system(),
    draft=campaigns.CampaignDraft(
        name="旅程测试活动", item_id=article.pk, channel="sms",
        scheduled_at=timezone.now() + dt.timedelta(days=20), codes=doctor.code,
    ),
)
print("{FACTS_MARKER}" + json.dumps({{
    "hcp": {{
        "id": doctor.pk,
        "name": doctor.name,
        "pinyin": doctor.name_pinyin,
        "mobile_masked": doctor.mobile_masked,
        "hco_id": doctor.primary_hco_id,
        "hco_lat": doctor.primary_hco.latitude,
        "hco_lng": doctor.primary_hco.longitude,
    }},
    "beijing_only_hcp_id": elsewhere.pk,
    "quiz_id": quiz.pk,
    "campaign_id": campaign.pk,
}}, ensure_ascii=False))
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [OMNIHCP, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        pytest.fail(
            f"omnihcp {' '.join(args[:2])} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}",
            pytrace=False,
        )
    return done.stdout


def _wait_for_port(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"omnihcp serve died ({server.returncode}):\n{log.read_text()[-5000:]}",
                pytrace=False,
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(
        f"omnihcp serve did not listen within {START_TIMEOUT:.0f}s:\n{log.read_text()[-5000:]}",
        pytrace=False,
    )


@pytest.fixture(scope="package")
def wecom_server() -> Iterator[Any]:
    """A local server speaking WeCom's API and its OAuth page, for the whole package: the
    journeys' server sends its WeCom messages there, and a WeCom login goes through it."""
    from tests.engagement.fake_servers import FakeServer, WeComHandler

    with FakeServer(WeComHandler) as server:
        yield server


@pytest.fixture(scope="package")
def server_env(
    tmp_path_factory: pytest.TempPathFactory, wecom_server: Any
) -> Iterator[tuple[dict[str, str], Path]]:
    """The server's environment: its own SQLite file, or its own PostgreSQL database."""
    from tests.engagement.fake_servers import CORP_ID, SECRET

    workdir = tmp_path_factory.mktemp("omnihcp-server")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "OMNIHCP_", "PYTEST_")) and key != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="omnihcp.config.settings",
        DEBUG="1",  # runserver serves the static files
        OMNIHCP_VAR_DIR=str(workdir / "var"),
        PYTHONUNBUFFERED="1",
        OMNIHCP_WECOM_CORP_ID=CORP_ID,
        OMNIHCP_WECOM_SECRET=SECRET,
        OMNIHCP_WECOM_AGENT_ID="1000002",
        OMNIHCP_WECOM_API_BASE=f"{wecom_server.url}/cgi-bin/",
        OMNIHCP_WECOM_OAUTH_URL=f"{wecom_server.url}/connect/oauth2/authorize",
    )
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        env["OMNIHCP_SQLITE_PATH"] = str(workdir / "omnihcp.sqlite3")
        yield env, workdir
        return

    import psycopg
    from psycopg import sql

    name = f"omnihcp_browser_{os.getpid()}"
    admin_conninfo = psycopg.conninfo.make_conninfo(base_url, dbname="postgres")

    def admin(statement: sql.Composable) -> None:
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            conn.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    admin(drop)
    admin(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(name)))
    env["DATABASE_URL"] = urlsplit(base_url)._replace(path="/" + name).geturl()
    try:
        yield env, workdir
    finally:
        admin(drop)


@pytest.fixture(scope="package")
def site(server_env: tuple[dict[str, str], Path]) -> Iterator[Site]:
    env, workdir = server_env
    _run(["migrate", "--noinput", "-v0"], env, workdir)
    # Without the demo month of engagement: the journeys make their own shares and reads.
    _run(["demo", "--hcps", str(DEMO_HCPS), "--no-engagement"], env, workdir)
    out = _run(["shell", "-c", FACTS_SCRIPT], env, workdir)
    line = next(line for line in out.splitlines() if line.startswith(FACTS_MARKER))
    facts = json.loads(line.removeprefix(FACTS_MARKER))

    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [OMNIHCP, "serve", f"127.0.0.1:{port}"],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, server, log)
        yield Site(
            url=f"http://127.0.0.1:{port}",
            doctor=Doctor(**facts["hcp"]),
            beijing_only_hcp_id=facts["beijing_only_hcp_id"],
            quiz_id=facts["quiz_id"],
            campaign_id=facts["campaign_id"],
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> str:
    """Every journey runs on a phone (390×844, touch) and on a desktop (1366×900)."""
    return str(request.param)


@pytest.fixture
def new_page(browser: Browser, screen: str) -> Iterator[NewPage]:
    """Open a page in a fresh browser context (own cookies) at the test's screen size."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def make(locale: str = "zh-CN", storage_state: Any = None) -> Page:
        context = browser.new_context(
            **SCREENS[screen],
            locale=locale,
            extra_http_headers={"Accept-Language": locale},
            storage_state=storage_state,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        # Script errors and missing static files break pages without failing a status check.
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} for {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, f"the pages had problems on the {screen}: {problems}"


@pytest.fixture
def login(site: Site) -> Login:
    """Sign a cast member in through the login form and land on their home page."""

    def sign_in(page: Page, username: str) -> None:
        page.goto(site.at("/login/"))
        form = page.locator("main form[method=post]")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(DEMO_PASSWORD)
        with page.expect_navigation(url=site.at("/")):
            press(page, form.locator("button[type=submit]"))

    return sign_in


@pytest.fixture(scope="package")
def sessions() -> dict[str, Any]:
    """Browser state (session cookie) of each cast member once signed in through the form."""
    return {}


@pytest.fixture
def page_as(new_page: NewPage, login: Login, sessions: dict[str, Any]) -> PageAs:
    """A page signed in as a cast member, for the test to take where it needs.

    The first time a member is needed they log in through the form (the page is then on
    their home page); later pages reuse that session (and start blank), since each password
    check costs the server a deliberately slow hash.
    """

    def make(username: str, locale: str = "zh-CN") -> Page:
        if username in sessions:
            return new_page(locale, storage_state=sessions[username])
        page = new_page(locale)
        login(page, username)
        sessions[username] = page.context.storage_state()
        return page

    return make

"""Local fake servers speaking the real HTTP protocols of WeCom's server API and of an SMS
gateway, so the channel adapters are tested over HTTP as in production."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CORP_ID = "ww-test-corp"
SECRET = "test-secret"


@dataclass
class FakeState:
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    member: str = ""  # the WeCom member signed in to the WeCom app (OAuth)
    codes: dict[str, str] = field(default_factory=dict)  # one-time OAuth code → member


class FakeServer:
    """One HTTP server in a thread; ``state`` holds what it received."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.state = FakeState()
        state = self.state

        class Bound(handler):  # type: ignore[misc, valid-type]
            fake = state

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Bound)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Json(BaseHTTPRequestHandler):
    fake: FakeState

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def answer(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")


class WeComHandler(_Json):
    """``/cgi-bin/gettoken``, ``/cgi-bin/message/send``, ``/cgi-bin/externalcontact/
    add_msg_template``, and web login — ``/connect/oauth2/authorize`` (WeCom's page, which sends
    the browser back with a one-time code) and ``/cgi-bin/user/getuserinfo`` — as
    https://developer.work.weixin.qq.com documents them."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/connect/oauth2/authorize":
            self.authorize(query)
        elif url.path == "/cgi-bin/user/getuserinfo":
            self.user_info(query)
        elif url.path != "/cgi-bin/gettoken":
            self.answer({"errcode": 404, "errmsg": "not found"}, 404)
        elif query.get("corpid") != CORP_ID or query.get("corpsecret") != SECRET:
            self.answer({"errcode": 40001, "errmsg": "invalid credential"})
        else:
            self.fake.tokens_issued += 1
            token = f"token-{self.fake.tokens_issued}"
            self.fake.valid_tokens.add(token)
            self.answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def authorize(self, query: dict[str, str]) -> None:
        if query.get("appid") != CORP_ID or query.get("scope") != "snsapi_base":
            self.answer({"errcode": 40013, "errmsg": "invalid corpid"}, 400)
            return
        code = f"code-{len(self.fake.codes) + 1}"
        self.fake.codes[code] = self.fake.member
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        self.send_response(302)
        self.send_header("Location", target)
        self.end_headers()

    def user_info(self, query: dict[str, str]) -> None:
        if query.get("access_token") not in self.fake.valid_tokens:
            self.answer({"errcode": 42001, "errmsg": "access_token expired"})
            return
        member = self.fake.codes.pop(query.get("code", ""), None)  # a code works once
        if member is None:
            self.answer({"errcode": 40029, "errmsg": "invalid code"})
        elif member.startswith("o"):  # not a member: WeCom answers an OpenId
            self.answer({"errcode": 0, "errmsg": "ok", "OpenId": member, "DeviceId": "d"})
        else:
            self.answer({"errcode": 0, "errmsg": "ok", "UserId": member, "DeviceId": "d"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        token = parse_qs(url.query).get("access_token", [""])[0]
        body = self.body()
        if token not in self.fake.valid_tokens:
            self.answer({"errcode": 42001, "errmsg": "access_token expired"})
            return
        self.fake.requests.append((url.path, body))
        if url.path == "/cgi-bin/message/send":
            if not body.get("touser"):
                self.answer({"errcode": 40003, "errmsg": "invalid userid"})
                return
            self.answer({"errcode": 0, "errmsg": "ok", "msgid": f"msg-{len(self.fake.requests)}"})
        elif url.path == "/cgi-bin/externalcontact/add_msg_template":
            self.answer({"errcode": 0, "errmsg": "ok", "fail_list": [], "msgid": "group-1"})
        else:
            self.answer({"errcode": 404, "errmsg": "not found"}, 404)


class SmsHandler(_Json):
    """A gateway: ``POST /send {mobile, content, sign}`` with a bearer key → ``{code, id}``."""

    def do_POST(self) -> None:
        body = self.body()
        if self.headers.get("Authorization") != "Bearer sms-key":
            self.answer({"code": 401, "message": "bad key"}, 401)
            return
        self.fake.requests.append((self.path, body))
        self.answer({"code": 0, "id": f"sms-{len(self.fake.requests)}"})

"""WeCom (企业微信) for employees: wechatpy's enterprise client, and logging in by WeCom OAuth.

A rep who opens OmniHCP from the WeCom app arrives without a session; the login page sends the
WeCom browser (its user agent says ``wxwork``) to WeCom's authorize page
(``open.weixin.qq.com/connect/oauth2/authorize``, scope ``snsapi_base``), which sends it back to
``/wecom/callback/`` with a one-time ``code``; ``user/getuserinfo`` turns the code into the
member's ``UserId``, and the user whose ``wecom_userid`` it is — an active employee — is logged
in. ``state`` is a random value kept in the session, so a callback that did not start here is
refused. Outside WeCom the normal login page works as before.

Settings (environment): ``OMNIHCP_WECOM_CORP_ID``, ``OMNIHCP_WECOM_SECRET``,
``OMNIHCP_WECOM_AGENT_ID``, ``OMNIHCP_WECOM_API_BASE`` (default
``https://qyapi.weixin.qq.com/cgi-bin/``) and ``OMNIHCP_WECOM_OAUTH_URL`` (default WeCom's
authorize page); the tests point both at a local fake server speaking WeCom's protocol.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import requests
from django.utils.translation import gettext as _
from wechatpy.enterprise.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from omnihcp.core.errors import ApplicationError
from omnihcp.org.models import User

WECOM_API = "https://qyapi.weixin.qq.com/cgi-bin/"
WECOM_OAUTH = "https://open.weixin.qq.com/connect/oauth2/authorize"
SESSION_STATE = "wecom_oauth_state"


class WeComClient(WeChatClient):  # type: ignore[misc]  # wechatpy is untyped
    """wechatpy's client, with the token endpoint under the configurable API base too."""

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )


def wecom_configured() -> bool:
    return bool(os.environ.get("OMNIHCP_WECOM_CORP_ID"))


def wecom_client() -> WeComClient:
    client = WeComClient(
        os.environ.get("OMNIHCP_WECOM_CORP_ID", ""),
        os.environ.get("OMNIHCP_WECOM_SECRET", ""),
        timeout=10,
    )
    client.API_BASE_URL = os.environ.get("OMNIHCP_WECOM_API_BASE", WECOM_API)
    client.oauth.OAUTH_BASE_URL = os.environ.get("OMNIHCP_WECOM_OAUTH_URL", WECOM_OAUTH)
    return client


def is_wecom_browser(user_agent: str) -> bool:
    """WeCom's built-in browser names itself ``wxwork`` in its user agent."""
    return "wxwork" in user_agent.lower()


def oauth_start(*, session: Any, callback_url: str) -> str:
    """The WeCom authorize URL to send the browser to; its ``state`` is kept in the session."""
    state = secrets.token_urlsafe(16)
    session[SESSION_STATE] = state
    return str(wecom_client().oauth.authorize_url(callback_url, state=state))


def oauth_user(*, session: Any, code: str, state: str) -> User:
    """The active user whose WeCom member the one-time ``code`` belongs to, or a clear refusal."""
    expected = session.pop(SESSION_STATE, None)
    if not expected or not secrets.compare_digest(expected, state or ""):
        raise ApplicationError(_("This WeCom login did not start here; please open it again."))
    if not code:
        raise ApplicationError(_("WeCom did not confirm who you are; please try again."))
    try:
        answer = wecom_client().oauth.get_user_info(code)
    except WeChatClientException as exc:
        raise ApplicationError(
            _("WeCom refused the login (error %(code)s).") % {"code": exc.errcode}
        ) from None
    except requests.RequestException:
        raise ApplicationError(_("WeCom cannot be reached; please try again.")) from None
    userid = answer.get("UserId") or answer.get("userid") or ""
    if not userid:  # an outside contact (OpenId) rather than a member of the company
        raise ApplicationError(_("Only members of the company can log in with WeCom."))
    user = User.objects.filter(wecom_userid=userid, is_active=True).first()
    employee = getattr(user, "employee", None) if user else None
    if user is None or (employee is not None and not employee.is_active):
        raise ApplicationError(
            _(
                "Your WeCom account (%(userid)s) is not linked to an active OmniHCP user; "
                "ask your administrator."
            )
            % {"userid": userid}
        )
    return user

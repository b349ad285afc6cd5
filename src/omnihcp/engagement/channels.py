"""Channel adapters: one interface to send a message by WeCom, SMS or email.

* WeCom (企业微信) through wechatpy's enterprise client: an app message (text card) to an
  employee, or a customer-contact group-send (``externalcontact/add_msg_template``) to a
  doctor who is the rep's external contact. Settings (environment): ``OMNIHCP_WECOM_CORP_ID``,
  ``OMNIHCP_WECOM_SECRET``, ``OMNIHCP_WECOM_AGENT_ID``, ``OMNIHCP_WECOM_API_BASE`` (default
  ``https://qyapi.weixin.qq.com/cgi-bin/``; the tests point it at a local fake server).
  wechatpy refreshes an expired access token and retries once by itself.
* SMS through a pluggable HTTP gateway (``OMNIHCP_SMS_URL``, ``OMNIHCP_SMS_KEY``, ``requests``):
  ``POST {mobile, content, sign}`` with a bearer key; without a URL, messages are only logged
  (development).
* Email through Django's email backend (``EmailMultiAlternatives``, text and HTML).

Every adapter answers a ``SendResult`` rather than raising for a provider's refusal, so a
campaign records "skipped: WeCom error 81013" per recipient instead of stopping.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Protocol

import requests
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape
from wechatpy.exceptions import WeChatClientException

from omnihcp.org.wecom import wecom_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundMessage:
    channel: str  # "wecom" (employee), "wecom_external" (a doctor), "sms", "email"
    to: str  # WeCom userid / external_userid, a mobile number, an email address
    title: str
    text: str
    url: str = ""
    sender: str = ""  # for wecom_external: the rep's WeCom userid the doctor knows


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str = ""
    error_code: str = ""
    error_text: str = ""


class Channel(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...


class WeComChannel:
    def __init__(self) -> None:
        # WeCom wants the agent id as a JSON number.
        agent = os.environ.get("OMNIHCP_WECOM_AGENT_ID", "")
        self.agent_id = int(agent) if agent.isdigit() else 0
        self.client = wecom_client()

    def send(self, message: OutboundMessage) -> SendResult:
        try:
            if message.channel == "wecom_external":
                answer = self.client.external_contact.add_msg_template(
                    {
                        "external_userid": [message.to],
                        "sender": message.sender,
                        "text": {"content": message.text},
                        "link": {"title": message.title, "url": message.url},
                    }
                )
            else:
                answer = self.client.message.send_text_card(
                    self.agent_id, message.to, message.title, message.text, message.url
                )
        except WeChatClientException as exc:
            return SendResult(False, error_code=str(exc.errcode), error_text=str(exc.errmsg))
        except requests.RequestException as exc:
            return SendResult(False, error_code="network", error_text=str(exc))
        return SendResult(True, provider_id=str(answer.get("msgid", "")))


class SmsChannel:
    def __init__(self) -> None:
        self.url = os.environ.get("OMNIHCP_SMS_URL", "")
        self.key = os.environ.get("OMNIHCP_SMS_KEY", "")
        self.sign = os.environ.get("OMNIHCP_SMS_SIGN", "OmniHCP")

    def send(self, message: OutboundMessage) -> SendResult:
        content = f"{message.text} {message.url}".strip()
        if not self.url:
            logger.info("SMS (no gateway configured) to %s****: %s", message.to[:3], content)
            return SendResult(True, provider_id="logged")
        try:
            response = requests.post(
                self.url,
                json={"mobile": message.to, "content": content, "sign": self.sign},
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=10,
            )
            body = response.json() if response.content else {}
        except (requests.RequestException, ValueError) as exc:
            return SendResult(False, error_code="network", error_text=str(exc))
        if response.status_code != 200 or body.get("code", 0) != 0:
            code = str(body.get("code", response.status_code))
            return SendResult(False, error_code=code, error_text=str(body.get("message", "")))
        return SendResult(True, provider_id=str(body.get("id", "")))


class EmailChannel:
    def send(self, message: OutboundMessage) -> SendResult:
        text = f"{message.text}\n\n{message.url}".strip()
        html = f"<p>{escape(message.text)}</p>"
        if message.url:
            html += f'<p><a href="{escape(message.url)}">{escape(message.title)}</a></p>'
        mail = EmailMultiAlternatives(message.title, text, to=[message.to])
        mail.attach_alternative(html, "text/html")
        try:
            sent = mail.send()
        except OSError as exc:
            return SendResult(False, error_code="smtp", error_text=str(exc))
        return SendResult(bool(sent))


def channel_for(code: str) -> Channel:
    """The adapter of a channel code (``wecom``, ``wecom_external``, ``sms``, ``email``)."""
    if code in ("wecom", "wecom_external"):
        return WeComChannel()
    if code == "sms":
        return SmsChannel()
    if code == "email":
        return EmailChannel()
    raise ValueError(f"unknown channel {code!r}")

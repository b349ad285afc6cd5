"""The channel adapters against local servers speaking WeCom's and an SMS gateway's HTTP."""

from __future__ import annotations

from django.core import mail

from omnihcp.engagement.channels import OutboundMessage, channel_for
from tests.engagement.fake_servers import FakeServer, SmsHandler

CARD = OutboundMessage(
    channel="wecom",
    to="rep_hangzhou",
    title="张医生刚读完《高血压长期管理》",
    text="阅读 4 分钟，读完全文",
    url="https://omnihcp.example/md/hcps/1/",
)


def test_an_app_message_reaches_the_rep_as_a_text_card(wecom):
    result = channel_for("wecom").send(CARD)

    assert result.ok
    assert result.provider_id == "msg-1"
    path, body = wecom.state.requests[0]
    assert path == "/cgi-bin/message/send"
    assert (body["touser"], body["agentid"], body["msgtype"]) == (
        "rep_hangzhou",
        1000002,
        "textcard",
    )
    assert body["textcard"]["title"] == "张医生刚读完《高血压长期管理》"
    assert body["textcard"]["url"] == "https://omnihcp.example/md/hcps/1/"


def test_a_doctor_gets_a_link_from_their_reps_wecom(wecom):
    message = OutboundMessage(
        channel="wecom_external",
        to="wmEXTERNAL01",
        sender="rep_hangzhou",
        title="高血压长期管理",
        text="王主任，这是上次提到的资料",
        url="https://omnihcp.example/c/abc",
    )

    result = channel_for("wecom_external").send(message)

    assert result.ok
    path, body = wecom.state.requests[0]
    assert path == "/cgi-bin/externalcontact/add_msg_template"
    assert body["external_userid"] == ["wmEXTERNAL01"]
    assert body["sender"] == "rep_hangzhou"
    assert body["link"] == {"title": "高血压长期管理", "url": "https://omnihcp.example/c/abc"}


def test_an_expired_token_is_refreshed_and_the_message_sent_once(wecom):
    channel = channel_for("wecom")
    channel.send(CARD)
    wecom.state.valid_tokens.clear()  # WeCom expired every token meanwhile

    result = channel.send(CARD)

    assert result.ok
    assert wecom.state.tokens_issued == 2
    assert [path for path, _body in wecom.state.requests].count("/cgi-bin/message/send") == 2


def test_a_wrong_secret_is_a_clear_failure(wecom, monkeypatch):
    monkeypatch.setenv("OMNIHCP_WECOM_SECRET", "wrong")

    result = channel_for("wecom").send(CARD)

    assert not result.ok
    assert result.error_code == "40001"
    assert "invalid credential" in result.error_text
    assert wecom.state.requests == []


def test_an_sms_goes_to_the_gateway_with_number_and_link(monkeypatch):
    with FakeServer(SmsHandler) as gateway:
        monkeypatch.setenv("OMNIHCP_SMS_URL", f"{gateway.url}/send")
        monkeypatch.setenv("OMNIHCP_SMS_KEY", "sms-key")
        message = OutboundMessage(
            "sms", "13912345678", "资料", "王主任您好，资料请查收", "https://x/c/1"
        )

        result = channel_for("sms").send(message)

        assert result.ok
        assert gateway.state.requests == [
            (
                "/send",
                {
                    "mobile": "13912345678",
                    "content": "王主任您好，资料请查收 https://x/c/1",
                    "sign": "OmniHCP",
                },
            )
        ]


def test_an_sms_gateway_refusal_is_reported_not_raised(monkeypatch):
    with FakeServer(SmsHandler) as gateway:
        monkeypatch.setenv("OMNIHCP_SMS_URL", f"{gateway.url}/send")
        monkeypatch.setenv("OMNIHCP_SMS_KEY", "wrong")

        result = channel_for("sms").send(OutboundMessage("sms", "13912345678", "t", "x"))

    assert (result.ok, result.error_code) == (False, "401")


def test_an_email_carries_the_link_in_text_and_html(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = OutboundMessage(
        "email", "wang@example.com", "高血压 <新指南>", "请查收", "https://x/c/2"
    )

    result = channel_for("email").send(message)

    assert result.ok
    sent = mail.outbox[0]
    assert sent.to == ["wang@example.com"]
    assert "https://x/c/2" in sent.body
    html, kind = sent.alternatives[0]
    assert kind == "text/html"
    assert '<a href="https://x/c/2">高血压 &lt;新指南&gt;</a>' in html

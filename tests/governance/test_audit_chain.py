from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from omnihcp.governance.models import AuditEvent
from omnihcp.governance.selectors import audit_chain_verify
from omnihcp.governance.services import audit_append


def _append_three(actor):
    return [
        audit_append(
            actor=actor,
            action="test.touch",
            object_type="hcp",
            object_id=i,
            before={"name": "张伟"},
            after={"name": f"张伟{i}"},
        )
        for i in range(3)
    ]


def test_audit_verify_reports_an_unbroken_chain(cast_user):
    _append_three(cast_user("steward"))
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Audit chain OK" in out.getvalue()
    assert audit_chain_verify().ok


def test_audit_verify_detects_an_edited_event(cast_user):
    events = _append_three(cast_user("steward"))
    AuditEvent.objects.filter(pk=events[1].pk).update(after={"name": "李四"})
    report = audit_chain_verify()
    assert not report.ok
    assert report.problems == (f"event #{events[1].seq} was edited after it was written",)
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify", stdout=StringIO(), stderr=StringIO())


def test_audit_verify_detects_a_deleted_event(cast_user):
    events = _append_three(cast_user("steward"))
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    report = audit_chain_verify()
    assert not report.ok
    assert f"event #{events[1].seq} is missing (next is #{events[2].seq})" in report.problems


def test_audit_verify_detects_a_deleted_tail(cast_user):
    events = _append_three(cast_user("steward"))
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    report = audit_chain_verify()
    assert report.problems == (
        f"the chain ends at #{events[1].seq} but its head says #{events[2].seq}",
    )


def test_each_event_records_actor_and_before_after(cast_user):
    steward = cast_user("steward")
    event = audit_append(
        actor=steward,
        action="hcp.update",
        object_type="hcp",
        object_id=7,
        before={"title": "attending"},
        after={"title": "chief_physician"},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor, stored.actor_id, stored.object_id) == ("steward", steward.pk, "7")
    assert stored.before == {"title": "attending"}
    assert stored.after == {"title": "chief_physician"}

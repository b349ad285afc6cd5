import pytest
from django.utils import timezone

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.models import AuditEvent
from omnihcp.org import services
from omnihcp.org.models import Employee, OrgLevel, OrgNode, Role, TerritoryRep


def test_handing_a_territory_to_a_new_rep_closes_the_old_period_and_moves_the_scope(
    cast_user, scope_of
):
    # given the Hangzhou rep's first territory and another rep of the same district
    admin = cast_user("admin")
    old_rep = Employee.objects.get(user=cast_user("rep_hangzhou"))
    period = TerritoryRep.objects.filter(employee=old_rep, valid_to__isnull=True).first()
    new_rep = (
        Employee.objects.filter(org_node=old_rep.org_node, position=Role.REP)
        .exclude(pk=old_rep.pk)
        .first()
    )
    before = len(AuditEvent.objects.all())
    # when the territory is handed over today
    today = timezone.localdate()
    services.territory_rep_assign(
        actor=admin, territory=period.territory, employee=new_rep, valid_from=today
    )
    # then the history keeps both periods and the old rep no longer sees those HCOs
    periods = list(TerritoryRep.objects.filter(territory=period.territory).order_by("valid_from"))
    assert [(p.employee_id, p.valid_to) for p in periods] == [
        (old_rep.pk, today),
        (new_rep.pk, None),
    ]
    assert AuditEvent.objects.count() == before + 1
    assert not scope_of("rep_hangzhou").hco_ids.filter(territory__id=period.territory_id).exists()


def test_only_a_rep_can_work_a_territory(cast_user):
    manager = Employee.objects.get(user=cast_user("dm_hangzhou"))
    territory = manager.org_node.territories.first()
    with pytest.raises(ApplicationError) as error:
        services.territory_rep_assign(
            actor=None, territory=territory, employee=manager, valid_from=timezone.localdate()
        )
    assert error.value.field == "employee"


def test_org_nodes_must_follow_national_region_area_district(db):
    national = OrgNode.objects.get(level=OrgLevel.NATIONAL)
    with pytest.raises(ApplicationError) as error:
        services.org_node_create(
            actor=None, code="X1", name="错层", level=OrgLevel.AREA, parent=national
        )
    assert error.value.field == "parent"
    region = services.org_node_create(
        actor=None, code="C", name="华中大区", level=OrgLevel.REGION, parent=national
    )
    assert region.path == f"{national.path}{region.pk}/"

"""The fixed cast of demo users, one per role with a known place in the org.

Tests, the README and benchmarks speak of these people ("the Hangzhou rep") instead of
inventing their own. Every demo user's password is ``DEMO_PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnihcp.org.types import Role

DEMO_PASSWORD = "omnihcp-demo-2026"  # noqa: S105 - the published password of demo users


@dataclass(frozen=True)
class CastMember:
    username: str
    role: Role
    display_name: str
    # Where the member sits: an org node code, or "" for HQ roles.
    org_node: str = ""
    description: str = ""


CAST: tuple[CastMember, ...] = (
    CastMember("admin", Role.ADMIN, "系统管理员", description="administrator"),
    CastMember("exec", Role.EXECUTIVE, "周总", description="executive (总裁)"),
    CastMember(
        "rm_east", Role.REGIONAL_MANAGER, "华东大区经理", "E", "regional manager, East China region"
    ),
    CastMember(
        "am_zhejiang", Role.AREA_MANAGER, "浙江地区经理", "E1", "area manager, Zhejiang area"
    ),
    CastMember(
        "dm_hangzhou",
        Role.DISTRICT_MANAGER,
        "杭州一片区经理",
        "E1-1",
        "district manager, Hangzhou district 1",
    ),
    CastMember(
        "rep_hangzhou",
        Role.REP,
        "杭州心血管代表",
        "E1-1",
        "cardiovascular rep in Hangzhou district 1 (the Hangzhou rep)",
    ),
    CastMember(
        "rep_beijing",
        Role.REP,
        "北京心血管代表",
        "N1-1",
        "cardiovascular rep in Beijing district 1 (the Beijing rep)",
    ),
    CastMember("vrep", Role.VIRTUAL_REP, "虚拟代表小林", description="virtual rep"),
    CastMember("marketing", Role.MARKETING, "市场部经理", description="marketing"),
    CastMember("medical", Role.MEDICAL, "医学部经理", description="medical affairs"),
    CastMember("steward", Role.DATA_STEWARD, "数据管理员", description="data steward"),
    CastMember("compliance", Role.COMPLIANCE, "合规经理", description="compliance"),
    CastMember("finance", Role.FINANCE, "财务经理", description="finance"),
)


def cast_member(username: str) -> CastMember:
    return next(member for member in CAST if member.username == username)

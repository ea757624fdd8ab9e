"""Member lists in, normalised companies and targets out.

`read_members` validates a member-list CSV completely (raising one `MemberListError` with every
problem), `plan_import` compares it with the store, `apply_import` carries the plan out in the
caller's transaction, and `list_targets` feeds `exposure targets list`.
"""

from targets.csv import parse_members, read_members
from targets.members import Issue, Member, MemberListError
from targets.normalise import (
    DomainTarget,
    InvalidValue,
    TargetSpec,
    is_private_target,
    normalise_domain,
    normalise_email,
    normalise_ip,
)
from targets.sync import (
    CompanyDiff,
    FieldChange,
    ImportPlan,
    PruneRefusedError,
    TargetRow,
    apply_import,
    describe_plan,
    list_targets,
    plan_import,
    summarise,
)

__all__ = [
    "CompanyDiff",
    "DomainTarget",
    "FieldChange",
    "ImportPlan",
    "InvalidValue",
    "Issue",
    "Member",
    "MemberListError",
    "PruneRefusedError",
    "TargetRow",
    "TargetSpec",
    "apply_import",
    "describe_plan",
    "is_private_target",
    "list_targets",
    "normalise_domain",
    "normalise_email",
    "normalise_ip",
    "parse_members",
    "plan_import",
    "read_members",
    "summarise",
]

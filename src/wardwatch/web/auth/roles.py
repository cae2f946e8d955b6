"""Roles and what each may do (issue 5: admin, security analyst, IT/network, biomed, manager, clinician).

One table decides every authorization question, for the UI and the API alike, so the authorization
matrix test can walk it.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The roles of the hospital teams that use wardwatch."""

    admin = "admin"
    security_analyst = "security_analyst"
    it_network = "it_network"
    biomed = "biomed"
    manager = "manager"
    clinician = "clinician"


class Permission(StrEnum):
    """Things a person or a token may do."""

    devices_read = "devices:read"
    devices_write = "devices:write"  # manual context: department, location, owner, criticality ...
    findings_read = "findings:read"
    alerts_read = "alerts:read"
    alerts_write = "alerts:write"
    policy_read = "policy:read"
    policy_write = "policy:write"
    reports_read = "reports:read"
    intel_write = "intel:write"
    users_admin = "users:admin"
    audit_read = "audit:read"


_ALL = frozenset(Permission)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: _ALL,
    Role.security_analyst: _ALL - {Permission.users_admin},
    Role.it_network: frozenset({
        Permission.devices_read, Permission.devices_write, Permission.findings_read, Permission.alerts_read,
        Permission.alerts_write, Permission.policy_read, Permission.policy_write, Permission.reports_read,
    }),
    Role.biomed: frozenset({
        Permission.devices_read, Permission.devices_write, Permission.findings_read, Permission.alerts_read,
        Permission.policy_read, Permission.reports_read, Permission.intel_write,
    }),
    Role.manager: frozenset({
        Permission.devices_read, Permission.findings_read, Permission.alerts_read, Permission.policy_read,
        Permission.reports_read,
    }),
    # A clinician reads only the devices of the departments assigned to them (scoped in the queries).
    Role.clinician: frozenset({Permission.devices_read, Permission.findings_read, Permission.alerts_read}),
}

#: Roles whose device access is limited to their assigned departments.
DEPARTMENT_SCOPED: frozenset[Role] = frozenset({Role.clinician})


def allowed(role: Role, permission: Permission) -> bool:
    """True when ``role`` holds ``permission``."""
    return permission in ROLE_PERMISSIONS[role]

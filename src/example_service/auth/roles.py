"""Roles and the permissions each grants: checks name a permission, never a role list."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"


class Permission(StrEnum):
    USERS_READ_ANY = "users:read_any"
    USERS_WRITE_ANY = "users:write_any"
    USERS_LIST = "users:list"
    USERS_MANAGE_ROLES = "users:manage_roles"
    API_KEYS_MANAGE = "api_keys:manage"
    # part: tasks
    TASKS_ENQUEUE = "tasks:enqueue"
    # end part: tasks


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.USER: frozenset({Permission.API_KEYS_MANAGE}),
}


def has_permission(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False

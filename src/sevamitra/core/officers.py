"""Officers and what they may see and do: least privilege by role and jurisdiction.

An officer holds one role at one place (a village or ward secretariat, a mandal or urban local
body, a district, or the state). They act only on cases at a desk of their own role at a place
within theirs. Administrators (department, district, state) see what their scope holds, never
decide; a district's administrator also works its queue of cases no desk could take.
"""

from __future__ import annotations

from dataclasses import dataclass

from sevamitra.core.roles import ADMIN_ROLES
from sevamitra.core.workflow import QUEUE, STATE, Desk


@dataclass(frozen=True, slots=True, kw_only=True)
class Officer:
    id: int
    username: str
    display_name: str
    role: str
    place: str  # a place id, or "state"
    department_id: str | None = None  # department administrators: their department
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


def within(place: str, scope: str) -> bool:
    """Whether `place` (a place id, or "state") lies inside `scope`."""
    return scope == STATE or place == scope or place.startswith(scope + "/")


def may_act(officer: Officer, desk_key: str) -> bool:
    """Whether the officer may decide a case at this desk (their role, within their place)."""
    if not officer.active:
        return False
    desk = Desk.parse(desk_key)
    if desk.role == QUEUE:
        return officer.role in ("district_admin", "state_admin") and within(desk.place, officer.place)
    return desk.role == officer.role and within(desk.place, officer.place) and not officer.is_admin


def may_view(officer: Officer, desk_key: str | None, district: str | None, department_id: str | None) -> bool:
    """Whether the officer may open an application: theirs to act on, or within an administrator's scope."""
    if not officer.active:
        return False
    if desk_key is not None and may_act(officer, desk_key):
        return True
    if officer.role == "state_admin":
        return True
    if officer.role == "department_admin":
        return department_id is not None and department_id == officer.department_id
    if officer.role == "district_admin":
        return district is not None and within(district, officer.place)
    return False

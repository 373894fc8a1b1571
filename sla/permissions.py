"""Who may read SLA timers and change SLA configuration (SPEC §1, §4).

Timers are staff information: the desk shows them, the portal never does, and the API answers
an end user 403 for the whole ``…/sla/`` area. Staff read calendars and policies through the
API; managers (and admins) change them: the configuration verbs check it, the pages and the API
only gate the area. The ``/sla/`` pages (dashboard and configuration) are managers' alone.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from itsm.permissions import MANAGER, has_role, is_staff_member

CONFIG_ROLES = (MANAGER,)  # calendars and policies: their pages and their writes
DASHBOARD_ROLES = (MANAGER,)  # the compliance dashboard (reports are managers')


def can_read_timers(user) -> bool:
    return is_staff_member(user)


def can_read_config(user) -> bool:
    return is_staff_member(user)


def can_configure(user) -> bool:
    return has_role(user, *CONFIG_ROLES)


def check_configure(actor) -> None:
    """``actor=None`` is the system (demo data, migrations of defaults)."""
    if actor is not None and not can_configure(actor):
        raise PermissionDenied(_("Only managers change SLA calendars and policies."))

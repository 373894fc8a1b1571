"""Who may use the CMDB (SPEC §1).

Agents see and work the CMDB (CIs and relationships); change managers, problem managers and
managers read it; admins also manage the classes and import CSV files. End users, and anyone
whose only role is CAB member, get a 403 for the whole area. Inside the area every CI is
visible to everyone who may enter it, so a CI that does not exist is the only 404.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from itsm.permissions import ADMIN, AGENT, CHANGE_MANAGER, MANAGER, PROBLEM_MANAGER, has_role

READ_ROLES = (AGENT, CHANGE_MANAGER, PROBLEM_MANAGER, MANAGER)  # admins hold every role
WRITE_ROLES = (AGENT,)
ADMIN_ROLES = (ADMIN,)


def can_view_cmdb(user) -> bool:
    return has_role(user, *READ_ROLES)


def can_edit_ci(user, ci=None) -> bool:
    """Create, edit and retire CIs, add and remove their relationships."""
    return has_role(user, *WRITE_ROLES)


def can_manage_classes(user) -> bool:
    return has_role(user, *ADMIN_ROLES)


def can_import(user) -> bool:
    """CSV import writes many CIs at once: admins only (export is open to every reader)."""
    return has_role(user, *ADMIN_ROLES)


# --- Checks the verbs make (``actor=None`` is the system: demo data, migrations)


def check_edit_ci(actor) -> None:
    if actor is not None and not can_edit_ci(actor):
        raise PermissionDenied(_("Only agents change the CMDB."))


def check_manage_classes(actor) -> None:
    if actor is not None and not can_manage_classes(actor):
        raise PermissionDenied(_("Only administrators manage CI classes."))


def check_import(actor) -> None:
    if actor is not None and not can_import(actor):
        raise PermissionDenied(_("Only administrators import CSV files into the CMDB."))

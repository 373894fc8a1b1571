"""Who reads reports (SPEC §1, §10): managers and admins, nobody else.

Reports span every process and every team, so they are the managers' alone: the pages answer
other roles 403 (and send anonymous visitors to sign in); the API answers 401 without
credentials and 403 to any other role, before any lookup (a service's id reveals nothing).
"""

from itsm.permissions import MANAGER, has_role

REPORT_ROLES = (MANAGER,)  # admins hold every role


def can_read_reports(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and has_role(user, *REPORT_ROLES)

"""The change pages (``/changes/``): one module per concern, every view named here for
``changes.urls``."""

from .cab import (
    approval_vote,
    board_add,
    board_list,
    board_member_add,
    board_member_remove,
    board_update,
    cab_agenda,
    home,
    my_approvals,
)
from .calendar import change_calendar, success_rate
from .config import (
    blackout_add,
    blackout_delete,
    blackout_list,
    blackout_update,
    template_add,
    template_delete,
    template_list,
    template_update,
)
from .pages import (
    change_add,
    change_attach,
    change_attachment,
    change_comment,
    change_detail,
    change_list,
    change_lookup,
    change_recheck,
    change_state,
    change_update,
)

__all__ = [
    "approval_vote",
    "blackout_add",
    "blackout_delete",
    "blackout_list",
    "blackout_update",
    "board_add",
    "board_list",
    "board_member_add",
    "board_member_remove",
    "board_update",
    "cab_agenda",
    "change_add",
    "change_attach",
    "change_attachment",
    "change_calendar",
    "change_comment",
    "change_detail",
    "change_list",
    "change_lookup",
    "change_recheck",
    "change_state",
    "change_update",
    "home",
    "my_approvals",
    "success_rate",
    "template_add",
    "template_delete",
    "template_list",
    "template_update",
]

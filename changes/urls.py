from django.urls import path, register_converter

from . import views


class NumberConverter:
    """A change number: ``CHG`` and digits (the other paths of the area never match it)."""

    regex = "CHG[0-9]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(NumberConverter, "change")

app_name = "changes"
urlpatterns = [
    path("", views.home, name="home"),
    path("list/", views.change_list, name="change_list"),
    path("new/", views.change_add, name="change_add"),
    path("lookup/", views.change_lookup, name="change_lookup"),
    path("approvals/", views.my_approvals, name="my_approvals"),
    path("approvals/<int:approval_id>/vote/", views.approval_vote, name="approval_vote"),
    path("cab/", views.cab_agenda, name="cab_agenda"),
    path("calendar/", views.change_calendar, name="change_calendar"),
    path("success/", views.success_rate, name="success_rate"),
    path("boards/", views.board_list, name="board_list"),
    path("boards/add/", views.board_add, name="board_add"),
    path("boards/<int:board_id>/", views.board_update, name="board_update"),
    path("boards/<int:board_id>/members/", views.board_member_add, name="board_member_add"),
    path(
        "boards/<int:board_id>/members/<int:user_id>/remove/",
        views.board_member_remove,
        name="board_member_remove",
    ),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_add, name="template_add"),
    path("templates/<int:template_id>/", views.template_update, name="template_update"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
    path("blackouts/", views.blackout_list, name="blackout_list"),
    path("blackouts/new/", views.blackout_add, name="blackout_add"),
    path("blackouts/<int:blackout_id>/", views.blackout_update, name="blackout_update"),
    path("blackouts/<int:blackout_id>/delete/", views.blackout_delete, name="blackout_delete"),
    path("<change:number>/", views.change_detail, name="change_detail"),
    path("<change:number>/edit/", views.change_update, name="change_update"),
    path("<change:number>/state/", views.change_state, name="change_state"),
    path("<change:number>/comment/", views.change_comment, name="change_comment"),
    path("<change:number>/attach/", views.change_attach, name="change_attach"),
    path("<change:number>/recheck/", views.change_recheck, name="change_recheck"),
    path(
        "<change:number>/attachments/<int:attachment_id>/",
        views.change_attachment,
        name="change_attachment",
    ),
]

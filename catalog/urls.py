"""The catalog's pages, under the desk (``/desk/requests/…``, ``/desk/tasks/…``,
``/desk/approvals/``), the editor (``/catalog/…``) and the portal (``/portal/catalog/…``,
``/portal/requests/…``, ``/portal/approvals/``)."""

from django.urls import path

from .views import desk, editor, portal, tasks

app_name = "catalog"
urlpatterns = [
    # --- The desk
    path("desk/requests/", desk.request_list, name="request_list"),
    path("desk/requests/<str:number>/", desk.request_detail, name="request_detail"),
    path("desk/requests/<str:number>/edit/", desk.request_update, name="request_update"),
    path("desk/requests/<str:number>/state/", desk.request_state, name="request_state"),
    path("desk/requests/<str:number>/decide/", desk.request_decide, name="request_decide"),
    path("desk/requests/<str:number>/tasks/", desk.request_add_task, name="request_add_task"),
    path("desk/requests/<str:number>/comment/", desk.request_comment, name="request_comment"),
    path("desk/requests/<str:number>/attach/", desk.request_attach, name="request_attach"),
    path(
        "desk/requests/<str:number>/attachments/<int:attachment_id>/",
        desk.request_attachment,
        name="request_attachment",
    ),
    path("desk/tasks/", tasks.task_list, name="task_list"),
    path("desk/tasks/<str:number>/", tasks.task_detail, name="task_detail"),
    path("desk/tasks/<str:number>/edit/", tasks.task_update, name="task_update"),
    path("desk/tasks/<str:number>/take/", tasks.task_take, name="task_take"),
    path("desk/tasks/<str:number>/state/", tasks.task_state, name="task_state"),
    path("desk/tasks/<str:number>/comment/", tasks.task_comment, name="task_comment"),
    path("desk/tasks/<str:number>/attach/", tasks.task_attach, name="task_attach"),
    path(
        "desk/tasks/<str:number>/attachments/<int:attachment_id>/",
        tasks.task_attachment,
        name="task_attachment",
    ),
    path("desk/approvals/", desk.approval_list, name="approval_list"),
    # --- The catalog editor
    path("catalog/", editor.item_list, name="item_list"),
    path("catalog/items/new/", editor.item_add, name="item_add"),
    path("catalog/items/<int:pk>/", editor.item_edit, name="item_edit"),
    path("catalog/items/<int:pk>/delete/", editor.item_delete, name="item_delete"),
    path("catalog/categories/new/", editor.category_add, name="category_add"),
    path("catalog/categories/<int:pk>/", editor.category_edit, name="category_edit"),
    path("catalog/categories/<int:pk>/delete/", editor.category_delete, name="category_delete"),
    # --- The portal
    path("portal/catalog/", portal.catalog_home, name="portal_catalog"),
    path("portal/catalog/<slug:slug>/", portal.catalog_category, name="portal_category"),
    path("portal/order/<slug:slug>/", portal.catalog_item, name="portal_item"),
    path("portal/requests/", portal.request_list, name="portal_request_list"),
    path("portal/requests/<str:number>/", portal.request_detail, name="portal_request_detail"),
    path(
        "portal/requests/<str:number>/comment/",
        portal.request_comment,
        name="portal_request_comment",
    ),
    path(
        "portal/requests/<str:number>/attach/", portal.request_attach, name="portal_request_attach"
    ),
    path(
        "portal/requests/<str:number>/attachments/<int:attachment_id>/",
        portal.attachment_download,
        name="portal_attachment",
    ),
    path(
        "portal/requests/<str:number>/cancel/", portal.request_cancel, name="portal_request_cancel"
    ),
    path(
        "portal/requests/<str:number>/decide/", portal.request_decide, name="portal_request_decide"
    ),
    path("portal/approvals/", portal.approvals, name="portal_approvals"),
]

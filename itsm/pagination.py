from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """``{"results": [...], "next": url|null, "previous": url|null}``; honours ``?ordering=``.

    Kept apart from ``itsm.api``: DRF imports the default pagination class while it loads
    its own generic views, which ``itsm.api`` imports.
    """

    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

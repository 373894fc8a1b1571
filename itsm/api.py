"""API bases: pagination, the error format of SPEC §11, and the ticket viewset every type uses
for its ``transition/``, ``comments/``, ``attachments/`` and ``history/`` endpoints."""

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path, reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, routers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import notify
from .attachments import UploadRefused, UploadTooLarge, download_response
from .models import Notification, visible_attachments
from .permissions import is_staff_member
from .workflow import Conflict, parse_version


def exception_handler(exc, context):
    """SPEC §11 errors: 400 ``{field: [messages]}``, 409 ``{"detail", "allowed"?}``, 413."""
    if isinstance(exc, Conflict):
        body = {"detail": str(exc.detail)}
        if exc.allowed is not None:
            body["allowed"] = exc.allowed
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {field: [str(m) for m in errors] for field, errors in exc.message_dict.items()}
        else:
            body = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, UploadTooLarge):
        return Response({"file": [str(exc)]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, UploadRefused):
        return Response({"file": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


# --- Serializers for the shared sub-resources


class ChoiceLabelField(serializers.CharField):
    """The label of a choice field's value in the caller's language (``state`` → ``"In
    progress"``).

    Reads the choices directly: ``get_FOO_display`` translates every label of the field on each
    call, and DRF inspects a method's signature for every row, which on a page of 50 rows cost
    the incident list a fifth of its time.
    """

    def __init__(self, choices, **kwargs):
        self.labels = dict(choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        label = self.labels.get(value)
        return str(value) if label is None else str(label)


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    body = serializers.CharField(max_length=50_000, trim_whitespace=True)
    internal = serializers.BooleanField(default=False)
    author = serializers.IntegerField(source="author_id", read_only=True)
    author_display = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def get_author_display(self, obj) -> str:
        return str(obj.author)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    internal = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_url(self, obj) -> str:
        ticket = self.context["ticket"]
        path = reverse(
            f"api:{ticket.type_name()}-attachment-download",
            kwargs={"number": ticket.number, "attachment_id": obj.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    internal = serializers.BooleanField(
        default=False, help_text="Staff only: keep it from end users."
    )


class AttachmentVisibilitySerializer(serializers.Serializer):
    internal = serializers.BooleanField()


class HistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()

    def get_actor(self, obj) -> str | None:
        return obj.actor.username if obj.actor_id else None


class TransitionSerializer(serializers.Serializer):
    state = serializers.CharField()


# --- Serializers of ticket types


class StrictInputMixin:
    """A field the caller may not write (read-only, computed, or no field at all) is refused
    by name (400), never silently dropped: ``read_only_messages`` may say why for some."""

    read_only_messages: dict[str, str] = {}

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = sorted(set(data) - writable)
            if refused:
                raise serializers.ValidationError(
                    {
                        name: [
                            self.read_only_messages.get(name)
                            or (
                                "This field is read-only."
                                if name in self.fields
                                else "There is no such field."
                            )
                        ]
                        for name in refused
                    }
                )
        return super().to_internal_value(data)

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        """A read-only choice whose model field may be blank still answers ``""``: keep
        ``allow_blank`` (DRF drops it for read-only fields), so the schema says so too."""
        blank = kwargs.get("allow_blank") and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank and kwargs.get("read_only"):
            kwargs["allow_blank"] = True
        return kwargs


# The fields each ticket serializer class builds from its model, built once (see get_fields).
_BUILT_FIELDS: dict[type, dict] = {}


class TicketSerializerMixin(StrictInputMixin):
    """What every ticket type's serializer shares: strict input, and output limited to the
    fields the reader may read when the view puts them in the context as ``readable`` (the
    end user's view of a ticket); ``None`` reads everything."""

    def get_fields(self):
        """A ModelSerializer introspects its model and builds every field (with its
        validators) for each instance: a tenth of a create through the API (profiled).
        They depend on the class alone, so they are built once per class and each instance
        gets a copy, as DRF copies the declared fields."""
        built = _BUILT_FIELDS.get(type(self))
        if built is None:
            built = _BUILT_FIELDS[type(self)] = super().get_fields()
        return copy.deepcopy(built)

    @property
    def _readable_fields(self):
        # DRF builds a representation from this generator; filtering it here means fields the
        # reader may not read are never computed (no display lookups, no prefetches read).
        readable = self.context.get("readable")
        for field in super()._readable_fields:
            if readable is None or field.field_name in readable:
                yield field


@dataclass(frozen=True)
class TicketVerbs:
    """The service verbs of one ticket type that the shared endpoints call, and nothing else:
    each verb holds its rule (who may, which fields, in which states)."""

    create: Callable  # (*, actor, **fields) -> ticket
    update: Callable  # (ticket, values, *, actor, version) -> changes
    change_state: Callable  # (ticket, to, *, actor, version, **fields) -> changes
    comment: Callable  # (ticket, *, actor, body, internal) -> comment
    attach: Callable  # (ticket, *, actor, upload, internal) -> attachment
    set_attachment_internal: Callable  # (ticket, attachment, *, actor, internal) -> changed


# --- The ticket viewset


class ConflictErrorSerializer(serializers.Serializer):
    """The body of a 409 answer."""

    detail = serializers.CharField(help_text="Why the request conflicts, in the caller's language.")
    allowed = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="When the ticket's state is the conflict: the states that take this request.",
    )


TICKET_UPDATE_CONFLICT = OpenApiResponse(
    ConflictErrorSerializer,
    description=(
        "Nothing was written. The ticket is in a state that takes no edit from this caller "
        "(closed, canceled; a requester's ticket that is no longer open): `allowed` lists the "
        "states that do. Or the `version` sent is stale (the ticket changed since it was "
        "read): `detail` only."
    ),
)


class TicketSchema(AutoSchema):
    """The schema of every ticket type's endpoints: a PATCH on a ticket also answers 409
    (``TICKET_UPDATE_CONFLICT``), beside the 200 the serializer gives."""

    def get_response_serializers(self):
        responses = super().get_response_serializers()
        if self.method != "PATCH" or getattr(self.view, "action", None) != "partial_update":
            return responses
        if not isinstance(responses, dict):
            responses = {200: responses}
        return {**responses, 409: TICKET_UPDATE_CONFLICT}


class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and PATCH a ticket type, plus its shared sub-resources.

    Subclasses set ``queryset`` (with its ``select_related``), ``serializer_class`` (with
    ``TicketSerializerMixin``), ``filterset_class``, ``verbs`` (the app's service verbs) and
    ``readable_fields`` / ``readable_history`` (the app's read rules: ``user -> field names``,
    ``None`` for all). The endpoints parse, call one verb, render; the verbs decide.
    Every lookup goes through ``visible_to``: a ticket the caller may not see is a 404.
    """

    lookup_field = "number"
    lookup_value_regex = "[A-Z]+[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    schema = TicketSchema()
    verbs: TicketVerbs

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @property
    def model(self):
        return self.queryset.model

    @staticmethod
    def readable_fields(user):
        return None

    @staticmethod
    def readable_history(user):
        return None

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        context["readable"] = self.readable_fields(self.request.user)
        return context

    # -- writes, each through one verb

    def perform_create(self, serializer):
        values = dict(serializer.validated_data)
        values.pop("version", None)
        serializer.instance = self.verbs.create(actor=self.request.user, **values)

    def perform_update(self, serializer):
        values = dict(serializer.validated_data)
        values.pop("version", None)
        self.verbs.update(
            serializer.instance,
            values,
            actor=self.request.user,
            version=parse_version(self.request.data.get("version")),
        )

    @extend_schema(request=TransitionSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def transition(self, request, number=None):
        ticket = self.get_object()
        data = request.data
        target = TransitionSerializer(data=data)
        target.is_valid(raise_exception=True)
        to = target.validated_data["state"]
        if to not in self.model.workflow.states.values:
            raise serializers.ValidationError(
                {"state": ["Unknown state; one of " + ", ".join(self.model.workflow.states.values)]}
            )
        fields = {name: data[name] for name in data if name not in ("state", "version")}
        self.verbs.change_state(
            ticket, to, actor=request.user, version=parse_version(data.get("version")), **fields
        )
        ticket.refresh_from_db()
        return Response(self.get_serializer(ticket).data)

    # -- comments

    @extend_schema(request=CommentSerializer, responses=CommentSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, number=None):
        ticket = self.get_object()
        if request.method == "POST":
            serializer = CommentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = self.verbs.comment(ticket, actor=request.user, **serializer.validated_data)
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = ticket.comments.select_related("author")
        if not is_staff_member(request.user):
            comments = comments.filter(internal=False)
        return Response(CommentSerializer(comments, many=True).data)

    # -- attachments

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses=AttachmentSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def attachments(self, request, number=None):
        ticket = self.get_object()
        context = {"ticket": ticket, "request": request}
        if request.method == "POST":
            body = AttachmentUploadSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            attachment = self.verbs.attach(
                ticket,
                actor=request.user,
                upload=body.validated_data["file"],
                internal=body.validated_data["internal"],
            )
            return Response(
                AttachmentSerializer(attachment, context=context).data,
                status=status.HTTP_201_CREATED,
            )
        files = visible_attachments(ticket, request.user)
        return Response(AttachmentSerializer(files, many=True, context=context).data)

    @extend_schema(
        methods=["GET"], responses={(200, "application/octet-stream"): bytes}, request=None
    )
    @extend_schema(
        methods=["PATCH"], request=AttachmentVisibilitySerializer, responses=AttachmentSerializer
    )
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment-download",
    )
    def attachment_download(self, request, number=None, attachment_id=None):
        """GET downloads the file; PATCH ``{"internal": bool}`` (staff) changes who sees it."""
        ticket = self.get_object()
        attachment = get_object_or_404(visible_attachments(ticket, request.user), pk=attachment_id)
        if request.method == "PATCH":
            body = AttachmentVisibilitySerializer(data=request.data)
            body.is_valid(raise_exception=True)
            self.verbs.set_attachment_internal(
                ticket, attachment, actor=request.user, internal=body.validated_data["internal"]
            )
            context = {"ticket": ticket, "request": request}
            return Response(AttachmentSerializer(attachment, context=context).data)
        return download_response(attachment)

    # -- history

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, number=None):
        ticket = self.get_object()
        events = ticket.events.select_related("actor")
        readable = self.readable_history(request.user)
        if readable is not None:
            events = events.filter(internal=False, field__in=readable)
        return Response(HistorySerializer(events, many=True).data)


# --- Notifications


class NotificationSerializer(serializers.ModelSerializer):
    """SPEC §11: ``id, kind, ticket (number), message, created_at, read``; the subject and the
    link (desk or portal page) come beside them."""

    read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "ticket", "subject", "message", "url", "created_at", "read"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first (``?unread=1``: unread only);
    ``POST {id}/read/`` marks one read, ``POST read-all/`` every one."""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind", "ticket"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    queryset = Notification.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        rows = Notification.objects.inbox(self.request.user)
        unread = self.request.query_params.get("unread")
        if unread in {"1", "true"}:
            rows = rows.filter(read_at__isnull=True)
        return rows

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        notify.mark_read(notification, actor=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("MarkedRead", fields={"marked": serializers.IntegerField()})
        },
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notify.mark_all_read(actor=request.user)})


class NotificationPreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    label = serializers.CharField(read_only=True)
    email = serializers.BooleanField(required=False, help_text="Hear of it by email.")
    in_app = serializers.BooleanField(
        required=False, help_text="Hear of it in the notification centre."
    )

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data) - {"kind", "email", "in_app"})
            if unknown:
                raise serializers.ValidationError(
                    {name: ["There is no such field."] for name in unknown}
                )
        return super().to_internal_value(data)


class NotificationPreferencesView(APIView):
    """``users/me/notification-preferences/``: per kind of event, whether the caller hears of
    it by email and/or in the app. PATCH (or PUT) a list of ``{"kind", "email"?, "in_app"?}``;
    kinds left out keep their setting."""

    @extend_schema(responses=NotificationPreferenceSerializer(many=True))
    def get(self, request):
        rows = notify.preferences_of(request.user)
        return Response(NotificationPreferenceSerializer(rows, many=True).data)

    @extend_schema(
        request=NotificationPreferenceSerializer(many=True),
        responses=NotificationPreferenceSerializer(many=True),
    )
    def patch(self, request):
        body = NotificationPreferenceSerializer(data=request.data, many=True)
        body.is_valid(raise_exception=True)
        choices = {}
        for item in body.validated_data:
            values = {name: item[name] for name in ("email", "in_app") if name in item}
            choices.setdefault(item["kind"], {}).update(values)
        rows = notify.set_preferences(request.user, choices, actor=request.user)
        return Response(NotificationPreferenceSerializer(rows, many=True).data)

    @extend_schema(
        request=NotificationPreferenceSerializer(many=True),
        responses=NotificationPreferenceSerializer(many=True),
    )
    def put(self, request):
        return self.patch(request)


router = routers.SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = [
    *router.urls,
    path(
        "users/me/notification-preferences/",
        NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
]

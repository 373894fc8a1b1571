"""API bases: pagination, the error format of SPEC §11, and the ticket viewset every type uses
for its ``transition/``, ``comments/``, ``attachments/`` and ``history/`` endpoints."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, routers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import services
from .attachments import UploadRefused, UploadTooLarge, download_response
from .models import Notification
from .permissions import has_role, is_staff_member
from .workflow import Conflict


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


# --- The ticket viewset


class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and PATCH a ticket type, plus its shared sub-resources.

    Subclasses set ``queryset`` (with its ``select_related``), ``serializer_class``,
    ``filterset_class``, and may override ``perform_create``, ``update_fields``,
    ``change_state`` and ``can_transition`` with the app's own services and rules.
    Every lookup goes through ``visible_to``: a ticket the caller may not see is a 404.
    """

    lookup_field = "number"
    lookup_value_regex = "[A-Z]+[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Extra body fields a transition may carry (the workflow's required fields are always allowed).
    transition_fields: tuple[str, ...] = ()
    # Moves an end user may make on their own tickets: {from: {to, ...}}.
    end_user_transitions: dict[str, set[str]] = {}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @property
    def model(self):
        return self.queryset.model

    # -- writes, each through a service

    def perform_update(self, serializer):
        version = self.request.data.get("version")
        if version is not None:
            try:
                version = int(version)
            except (TypeError, ValueError) as exc:
                raise serializers.ValidationError({"version": ["A whole number."]}) from exc
        self.update_fields(serializer.instance, serializer.validated_data, version=version)

    def update_fields(self, ticket, values, *, version):
        services.update_ticket(ticket, values, actor=self.request.user, version=version)

    def change_state(self, ticket, to, *, version, **fields):
        return services.transition(ticket, to, actor=self.request.user, version=version, **fields)

    def add_comment(self, ticket, **data):
        return services.add_comment(ticket, actor=self.request.user, **data)

    def can_transition(self, user, ticket, to) -> bool:
        if is_staff_member(user):
            return has_role(user, *self.model.STAFF_ROLES)
        return to in self.end_user_transitions.get(ticket.state, set())

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
        self.model.workflow.check(ticket.state, to)
        if not self.can_transition(request.user, ticket, to):
            raise PermissionDenied("You may not make this state change.")
        allowed_fields = set(self.transition_fields) | set(self.model.workflow.required.get(to, ()))
        unknown = set(data) - allowed_fields - {"state", "version"}
        if unknown:
            raise serializers.ValidationError(
                {name: ["Not accepted with this transition."] for name in sorted(unknown)}
            )
        fields = {name: data[name] for name in allowed_fields if name in data}
        try:
            version = int(data["version"]) if data.get("version") not in (None, "") else None
        except (TypeError, ValueError) as exc:
            raise serializers.ValidationError({"version": ["A whole number."]}) from exc
        self.change_state(ticket, to, version=version, **fields)
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
            comment = services.add_comment(ticket, actor=request.user, **serializer.validated_data)
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
            upload = request.FILES.get("file")
            if upload is None:
                raise serializers.ValidationError({"file": ["No file was submitted."]})
            attachment = services.add_attachment(ticket, actor=request.user, upload=upload)
            return Response(
                AttachmentSerializer(attachment, context=context).data,
                status=status.HTTP_201_CREATED,
            )
        return Response(
            AttachmentSerializer(ticket.attachments.all(), many=True, context=context).data
        )

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment-download",
    )
    def attachment_download(self, request, number=None, attachment_id=None):
        ticket = self.get_object()
        attachment = get_object_or_404(ticket.attachments, pk=attachment_id)
        return download_response(attachment)

    # -- history

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, number=None):
        ticket = self.get_object()
        events = ticket.events.select_related("actor")
        if not is_staff_member(request.user):
            events = events.filter(internal=False)
        return Response(HistorySerializer(events, many=True).data)


# --- Notifications


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "ticket", "subject", "message", "url", "created_at", "read"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first; ``POST {id}/read/`` marks one read."""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind", "ticket"]

    queryset = Notification.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        rows = Notification.objects.filter(recipient=self.request.user)
        unread = self.request.query_params.get("unread")
        if unread in {"1", "true"}:
            rows = rows.filter(read_at__isnull=True)
        return rows

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        count = self.get_queryset().filter(read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked": count})


router = routers.SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")

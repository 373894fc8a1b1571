from rest_framework import routers, serializers

from itsm.api import TicketViewSet

from . import services
from .models import Incident


class IncidentSerializer(serializers.ModelSerializer):
    requester_display = serializers.CharField(source="requester.__str__", read_only=True)
    assignee_display = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "number",
            "title",
            "description",
            "state",
            "impact",
            "urgency",
            "priority",
            "requester",
            "requester_display",
            "assignee",
            "assignee_display",
            "assignment_group",
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "major",
            "parent",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "state",
            "priority",
            "requester",
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "version",
        ]

    def get_assignee_display(self, obj) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None


class IncidentViewSet(TicketViewSet):
    queryset = Incident.objects.select_related("requester", "assignee", "assignment_group")
    serializer_class = IncidentSerializer
    filterset_fields = ["state", "priority", "assignee", "assignment_group", "requester", "major"]
    ordering_fields = ["created_at", "updated_at", "priority", "number", "state"]
    transition_fields = ("hold_reason", "resolution_code", "resolution_notes")
    end_user_transitions = {
        "new": {"canceled"},
        "resolved": {"closed", "in_progress"},
    }

    def perform_create(self, serializer):
        serializer.instance = services.open_incident(
            actor=self.request.user, **serializer.validated_data
        )

    def update_fields(self, ticket, values, *, version):
        services.update_incident(ticket, values, actor=self.request.user, version=version)

    def change_state(self, ticket, to, *, version, **fields):
        return services.change_state(ticket, to, actor=self.request.user, version=version, **fields)


router = routers.SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incidents")

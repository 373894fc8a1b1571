"""``users/``, ``users/me/``, ``teams/`` and ``auth/token/`` (SPEC §11)."""

from django.contrib.auth import password_validation, update_session_auth_hash
from django.urls import path
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import routers, serializers, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm.api import StrictInputMixin
from itsm.permissions import ADMIN, ROLES, STAFF_ROLES, HasRole

from . import services
from .models import Team, User, matching
from .signin import refuse_sprayers
from .tokens import token_expiry


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLES), required=False, allow_empty=True
    )
    teams = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Team.objects.all(), required=False
    )
    password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, style={"input_type": "password"}
    )
    display = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "display",
            "roles",
            "teams",
            "language",
            "time_zone",
            "phone",
            "manager",
            "is_active",
            "password",
        ]

    def validate_password(self, value):
        password_validation.validate_password(value, self.instance)
        return value

    def create(self, validated_data):
        return services.create_user(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        data = dict(validated_data)
        return services.update_user(
            instance,
            data,
            actor=self.context["request"].user,
            roles=data.pop("roles", None),
            teams=data.pop("teams", None),
            password=data.pop("password", None),
        )


class MeSerializer(StrictInputMixin, UserSerializer):
    """What a person may change about themself: never their roles or teams."""

    roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    current_password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "display",
            "roles",
            "teams",
            "language",
            "time_zone",
            "phone",
            "password",
            "current_password",
        ]
        read_only_fields = ["username", "roles", "teams"]


class UserViewSet(viewsets.ModelViewSet):
    """Admins manage users; staff may read the directory (assignee pickers)."""

    serializer_class = UserSerializer
    queryset = User.objects.prefetch_related("groups", "teams").order_by("username")
    filterset_fields = ["is_active", "teams"]
    ordering_fields = ["username", "last_name", "date_joined"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action == "me":
            return [permission() for permission in self.permission_classes]
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [HasRole.of(*STAFF_ROLES)()]
        return [HasRole.of(ADMIN)()]

    def get_queryset(self):
        rows = super().get_queryset()
        search = self.request.query_params.get("search")
        return matching(rows, search) if search else rows

    def perform_destroy(self, instance):
        """Users are deactivated, never deleted: their tickets and audit trail keep them."""
        services.deactivate_user(instance, actor=self.request.user)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    @action(detail=False, methods=["get", "patch"], serializer_class=MeSerializer)
    def me(self, request):
        if request.method == "PATCH":
            serializer = MeSerializer(
                request.user, data=request.data, partial=True, context={"request": request}
            )
            serializer.is_valid(raise_exception=True)
            values = dict(serializer.validated_data)
            password = values.pop("password", None)
            services.update_profile(
                request.user,
                values,
                actor=request.user,
                password=password,
                current_password=values.pop("current_password", None),
            )
            if password and request.session.session_key:
                # this browser stays signed in; every other session ends with the old password
                update_session_auth_hash(request, request.user)
            return Response(MeSerializer(request.user).data)
        return Response(MeSerializer(request.user).data)


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.all(), required=False
    )

    class Meta:
        model = Team
        fields = ["id", "name", "description", "email", "lead", "members"]

    def create(self, validated_data):
        return services.save_team(None, validated_data, actor=self.context["request"].user)

    def update(self, instance, validated_data):
        return services.save_team(instance, validated_data, actor=self.context["request"].user)


class TeamViewSet(viewsets.ModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.prefetch_related("members").order_by("name")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance):
        services.delete_team(instance, actor=self.request.user)

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [HasRole.of(*STAFF_ROLES)()]
        return [HasRole.of(ADMIN)()]


class ObtainToken(APIView):
    """``POST {"username", "password"}`` → ``{"token": "<key>"}``: the same limits as the sign-in
    form (``accounts.signin``): failures count, successes never do."""

    authentication_classes = []
    permission_classes = []
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: {"type": "object", "properties": {"token": {"type": "string"}}}},
    )
    @method_decorator(refuse_sprayers)
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token = services.issue_token(serializer.validated_data["user"])
        return Response({"token": token.key})


class TokenInfoSerializer(serializers.Serializer):
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField()
    ends_with = serializers.CharField()


class MyToken(APIView):
    """``users/me/token/``: GET what the caller's API token is (never its key); DELETE revokes
    it (a new one comes from ``auth/token/``)."""

    @extend_schema(responses={200: TokenInfoSerializer, 404: None})
    def get(self, request):
        token = services.token_of(request.user)
        if token is None:
            raise NotFound("You have no API token.")
        return Response(
            TokenInfoSerializer(
                {
                    "created": token.created,
                    "expires": token_expiry(token),
                    "ends_with": token.key[-4:],
                }
            ).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.revoke_tokens(request.user, actor=request.user)
        return Response(status=204)


router = routers.SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
urlpatterns = [
    path("users/me/token/", MyToken.as_view(), name="user-me-token"),
    *router.urls,
    path("auth/token/", ObtainToken.as_view(), name="auth-token"),
]

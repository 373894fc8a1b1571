"""Every write to people and teams, as a verb (SPEC §1, §11).

Administrators manage users, their roles and teams; everyone manages their own profile (with
their current password to set a new one). ``actor=None`` is the system itself (demo data,
commands run by the operator). Users are deactivated, never deleted: their tickets and audit
trail keep them.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from itsm.permissions import ADMIN, GROUP_ROLES, ROLES, STAFF_ROLES, check_fields, has_role
from itsm.workflow import Conflict

from .models import Team, User

# Fields an administrator sets on a user (besides ``roles``, ``teams`` and ``password``).
USER_FIELDS = frozenset(
    {
        *("username", "email", "first_name", "last_name", "language", "time_zone", "phone"),
        *("manager", "is_active"),
    }
)
# Fields anyone sets on their own profile (besides ``password``).
PROFILE_FIELDS = frozenset({"email", "first_name", "last_name", "language", "time_zone", "phone"})
TEAM_FIELDS = frozenset({"name", "description", "email", "lead", "members"})


def _check_admin(actor) -> None:
    if actor is not None and not has_role(actor, ADMIN):
        raise PermissionDenied(_("Only administrators manage users and teams."))


def _set_password(user: User, password: str | None, *, actor) -> None:
    """Passwords people choose meet the password policy; the system's own (demo logins,
    test personas) are set as given."""
    if password:
        if actor is not None:
            password_validation.validate_password(password, user)
        user.set_password(password)


def _apply_roles(user: User, roles: Iterable[str]) -> None:
    roles = set(roles)
    unknown = sorted(roles - set(ROLES))
    if unknown:
        raise ValidationError({"roles": [_("Unknown role: %(role)s.") % {"role": unknown[0]}]})
    # get_or_create: the role groups come with a migration, but a flushed database (tests
    # that commit) has none until the first user needs them
    user.groups.set(
        [Group.objects.get_or_create(name=name)[0] for name in sorted(roles & set(GROUP_ROLES))]
    )
    superuser = ADMIN in roles
    if user.is_superuser != superuser:
        user.is_superuser = user.is_staff = superuser
        user.save(update_fields=["is_superuser", "is_staff"])
    user.__dict__.pop("_itsm_roles", None)


@transaction.atomic
def create_user(
    *, actor, roles: Iterable[str] = (), teams: Iterable[Team] = (), password=None, **fields
) -> User:
    """A new account; without a password it cannot sign in until one is set (or SSO)."""
    _check_admin(actor)
    check_fields(fields, USER_FIELDS)
    user = User(**fields)
    if password:
        _set_password(user, password, actor=actor)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _apply_roles(user, roles)
    user.teams.set(teams)
    return user


@transaction.atomic
def register_caller(*, actor, first_name: str, last_name: str, email: str = "", phone: str = ""):
    """Someone the desk hears from who is not in the directory yet (a phone call, a walk-in):
    the agent logging their incident adds them as an end user, without roles, and without a
    password until they are given one. An address someone already has is refused: pick them."""
    if actor is None or not has_role(actor, *STAFF_ROLES):
        raise PermissionDenied(_("Only the service desk adds callers."))
    first_name, last_name, email = first_name.strip(), last_name.strip(), email.strip()
    if not (first_name and last_name):
        raise ValidationError({"last_name": [_("Give the caller's first and last name.")]})
    if email and User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": [_("Someone in the directory has this address: pick them instead.")]}
        )
    base = slugify(email.split("@")[0] if email else f"{first_name}.{last_name}")[:140] or "caller"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}{n}"
    user = User(
        username=username, first_name=first_name, last_name=last_name, email=email, phone=phone
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def update_user(
    user: User,
    values: Mapping[str, Any],
    *,
    actor,
    roles: Iterable[str] | None = None,
    teams: Iterable[Team] | None = None,
    password=None,
) -> User:
    _check_admin(actor)
    check_fields(values, USER_FIELDS)
    for name, value in values.items():
        setattr(user, name, value)
    _set_password(user, password, actor=actor)
    user.full_clean(exclude=["password"])
    user.save()
    if password or not user.is_active:
        revoke_tokens(user)
    if roles is not None:
        _apply_roles(user, roles)
    if teams is not None:
        user.teams.set(teams)
    return user


@transaction.atomic
def save_account(user: User, *, actor) -> User:
    """An administrator's edit in the admin site, whose forms have validated the fields (and
    hashed a new password); roles and teams follow through the same forms."""
    _check_admin(actor)
    user.save()
    user.__dict__.pop("_itsm_roles", None)
    return user


@transaction.atomic
def deactivate_user(user: User, *, actor) -> None:
    """The account can no longer sign in; its tickets and history keep it."""
    _check_admin(actor)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    revoke_tokens(user)


@transaction.atomic
def update_profile(
    user: User, values: Mapping[str, Any], *, actor, password=None, current_password=None
) -> User:
    """Someone changes their own name, email, language or phone.

    A new password or a new email address needs the current password: whoever holds a session
    for a minute must not take the account's mail (and its password resets) for themselves.
    The old address is told of an email change; a new password revokes the API tokens (other
    sessions end by themselves: Django checks each session against the password).
    """
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own profile."))
    check_fields(values, PROFILE_FIELDS)
    old_email = user.email
    email_changes = "email" in values and (values["email"] or "") != old_email
    if (password or email_changes) and not user.check_password(current_password or ""):
        raise ValidationError(
            {"current_password": [_("Your current password is required for this change.")]}
        )
    _set_password(user, password, actor=actor)
    for name, value in values.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    if password:
        revoke_tokens(user)
    if email_changes and old_email:
        _tell_old_address(user, old_email)
    return user


def revoke_tokens(user: User, *, actor=None) -> None:
    """End every API token of ``user`` (a new password, a deactivation, or they asked)."""
    if actor is not None and actor.pk != user.pk:
        _check_admin(actor)
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()


def _tell_old_address(user: User, old_email: str) -> None:
    """Write the notice to the former address into the outbox, in the change's transaction:
    mailed after commit, or by the sweep when the broker or the mail server is down."""
    from django.conf import settings
    from django.utils import translation

    from itsm import notify
    from itsm.models import OutboundMail

    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = str(_("Your service desk email address was changed"))
        body = str(
            _(
                "Hello %(name)s,\n\nThe email address of your service desk account "
                "%(username)s was changed from %(old)s to %(new)s. If you did not make this "
                "change, contact the service desk at once: someone may be using your account."
            )
        ) % {"name": user, "username": user.username, "old": old_email, "new": user.email}
    notify.mail_to(old_email, kind=OutboundMail.Kind.ACCOUNT, subject=subject, body=body)


def issue_token(user: User):
    """The API token of someone who has just proved their password (``auth/token/``): the
    current one, or a new one when it has expired."""
    from rest_framework.authtoken.models import Token

    from .tokens import is_expired

    token = Token.objects.filter(user=user).first()
    if token is not None and is_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def token_of(user: User):
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).first()


def set_language(user: User, language: str, *, actor) -> None:
    """The interface and email language a person chose (the language switcher)."""
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied
    if user.language != language:
        user.language = language
        user.full_clean(exclude=["password"])
        user.save(update_fields=["language"])


# --- Teams


@transaction.atomic
def save_team(team: Team | None, values: Mapping[str, Any], *, actor) -> Team:
    """Create (``team=None``) or edit a team: name, lead, members..."""
    _check_admin(actor)
    check_fields(values, TEAM_FIELDS)
    values = dict(values)
    members = values.pop("members", None)
    team = team if team is not None else Team()
    for name, value in values.items():
        setattr(team, name, value)
    team.full_clean()
    team.save()
    if members is not None:
        team.members.set(members)
    return team


@transaction.atomic
def add_members(team: Team, members: Iterable[User], *, actor) -> None:
    _check_admin(actor)
    team.members.add(*members)


@transaction.atomic
def delete_team(team: Team, *, actor) -> None:
    """Remove a team no ticket is assigned to (409 while some are)."""
    _check_admin(actor)
    try:
        team.delete()
    except ProtectedError as exc:
        raise Conflict(_("Tickets are assigned to this team; reassign them first.")) from exc

"""The three roles, as Django groups: labeler, reviewer, admin (superusers count as admin)."""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied

LABELER = "labeler"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (LABELER, REVIEWER, ADMIN)


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_grpo_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMIN)
        user._grpo_roles = cached
    return cached


def is_admin(user) -> bool:
    return ADMIN in user_roles(user)


def is_reviewer(user) -> bool:
    """Reviewers and admins see everyone's rankings and agreement figures."""
    return bool({REVIEWER, ADMIN} & user_roles(user))


def role_required(check: Callable) -> Callable:
    """View decorator: 403 unless ``check(request.user)``; anonymous users go to login."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


reviewer_required = role_required(is_reviewer)
admin_required = role_required(is_admin)

"""DRF permission classes for the three roles."""

from rest_framework.permissions import BasePermission

from .roles import is_admin, is_reviewer


class IsReviewer(BasePermission):
    message = "Reviewer or admin role required."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and is_reviewer(request.user))


class IsAdmin(BasePermission):
    message = "Admin role required."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and is_admin(request.user))

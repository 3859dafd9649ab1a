from .roles import is_admin, is_reviewer


def roles(request):
    user = request.user
    return {"is_reviewer": is_reviewer(user), "is_admin": is_admin(user)}

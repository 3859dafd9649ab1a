"""Training job REST API, mounted under /api/jobs/."""

urlpatterns: list = []

"""Training job pages (namespace `training`)."""

app_name = "training"
urlpatterns: list = []

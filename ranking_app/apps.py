from django.apps import AppConfig


class RankingAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ranking_app"
    verbose_name = "Rankings"

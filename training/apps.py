from django.apps import AppConfig


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = "Training"

    def ready(self):
        # Models load after the app registry is ready, hence these imports here (Django's place for them).
        from ranking_app.labeling.queue_orders import order_keys_register
        from ranking_app.models import Project

        from .uncertainty import model_uncertainty_keys

        order_keys_register(Project.QueueOrder.MODEL_UNCERTAINTY, model_uncertainty_keys)

from django.contrib import admin

from .models import EvaluationRequest, EvaluationResult, JobMetric, TrainingJob


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "project", "status", "step", "total_steps", "attempts", "created_at")
    list_filter = ("status", "project")
    readonly_fields = ("heartbeat_at", "worker_id", "attempts", "created_at", "started_at", "finished_at")


@admin.register(EvaluationResult)
class EvaluationResultAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "model", "split", "n_prompts", "created_at")


@admin.register(EvaluationRequest)
class EvaluationRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "project", "split", "status", "n_prompts", "updated_at")
    list_filter = ("status", "project")


admin.site.register(JobMetric)

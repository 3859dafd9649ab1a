from django.contrib import admin

from .models import Assignment, ExportSnapshot, Project, Prompt, Ranking, RankingRevision, Response


class ResponseInline(admin.TabularInline):
    """Read-only: rankings refer to responses by position, so adding, editing or deleting one here
    would silently change what every stored ranking means. Responses come from imports, which
    refuse such changes on prompts that have rankings."""

    model = Response
    extra = 0
    max_num = 0
    can_delete = False
    readonly_fields = ["position", "text", "source", "metadata"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "target_annotators", "agreement_threshold", "allow_ties", "allow_partial", "queue_order"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["external_id", "project", "split"]
    list_filter = ["project", "split"]
    search_fields = ["external_id", "text"]
    inlines = [ResponseInline]


@admin.register(Ranking)
class RankingAdmin(admin.ModelAdmin):
    list_display = ["prompt", "annotator", "status", "version", "updated_at"]
    list_filter = ["status", "prompt__project"]
    readonly_fields = ["version"]


@admin.register(RankingRevision)
class RankingRevisionAdmin(admin.ModelAdmin):
    list_display = ["ranking", "version", "status", "changed_by", "created_at"]


admin.site.register(Assignment)
admin.site.register(ExportSnapshot)

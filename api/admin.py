from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api import services
from api.models import PersonalAccessToken


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "can_write", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["can_write"]
    search_fields = ["=prefix", "=user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = [field.name for field in PersonalAccessToken._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # a token is made by its user and shown to them only

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            services.token_revoke(token=token, now=timezone.now())

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .access import scope_of
from .models import Cluster, District, Membership, Park, Sector


class ScopedAdminMixin:
    """The admin shows and offers only what the user's scope covers, like every other entry
    point (the model's queryset must be a ScopedQuerySet)."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is District:
            kwargs["queryset"] = scope_of(request.user).filter(District.objects.all(), "pk")
        elif hasattr(related.objects.all(), "visible_to"):
            kwargs["queryset"] = related.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _can_edit(self, request, obj=None) -> bool:
        return scope_of(request.user).can_edit

    def has_add_permission(self, request, *args):
        return self._can_edit(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._can_edit(request, obj) and super().has_change_permission(request, obj)


@admin.register(Cluster)
class ClusterAdmin(SimpleHistoryAdmin):
    list_display = ("name_zh", "name_en", "plan_start_year", "plan_end_year", "document_number")
    search_fields = ("name_zh", "name_en", "document_number")


class ParkInline(admin.TabularInline):
    model = Park
    extra = 0


@admin.register(District)
class DistrictAdmin(SimpleHistoryAdmin):
    list_display = ("name_zh", "name_en", "code", "code_system", "kind", "parent", "sort_order")
    list_filter = ("kind", "code_system")
    list_select_related = ("parent",)
    search_fields = ("name_zh", "name_en", "code")
    inlines = [ParkInline]


@admin.register(Park)
class ParkAdmin(SimpleHistoryAdmin):
    list_display = ("name_zh", "name_en", "district")
    list_filter = ("district",)
    list_select_related = ("district",)
    search_fields = ("name_zh", "name_en")


class MaterialInline(admin.TabularInline):
    model = Sector
    fk_name = "parent"
    fields = ("code", "name_zh", "name_en", "sort_order", "source")
    extra = 0
    verbose_name = _("material")
    verbose_name_plural = _("materials")


@admin.register(Sector)
class SectorAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("code", "name_zh", "name_en")

    def get_inlines(self, request, obj):
        return [MaterialInline] if obj and obj.level == Sector.Level.DIRECTION else []


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False
    verbose_name_plural = _("district")


admin.site.unregister(User)


@admin.register(User)
class ClusterUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ("username", "email", "is_staff", "is_active", "district", "roles")
    list_select_related = ("membership__district",)
    list_filter = ("groups", "is_staff", "is_active", "membership__district")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("district"))
    def district(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.district if membership and membership.district else _("city")

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .access import get_or_refuse, log_refused, scope_of, visible_history
from .formatting import yuan_as_wan
from .models import Cluster, District, Membership, Park, Plan, Sector


def _lookup(model, value: str, field=None) -> dict | None:
    """The lookup for an (unquoted) id from a URL, None when it cannot name a row."""
    field = field or model._meta.pk
    try:
        return {field.name: field.to_python(value)}
    except ValidationError:
        return None


class HistoryAdmin(SimpleHistoryAdmin):
    """History and revert pages that keep the admin's own rules.

    django-simple-history's views read the history of any object (a deleted one without the
    admin's queryset) and save a revert for anyone allowed to view. Here:
    - the object, live or deleted, must be one the admin shows the user: 404 otherwise,
      logged as refused when it exists outside the user's scope;
    - reverting needs the right to change the object and a recorded state inside the user's
      scope, and the model's changes must not belong to a workflow (`no_revert_reason`);
    - a revert is saved by the admin's `save_model`, through the model's service where it
      has one, like any other change.
    """

    # Admins of workflow data give the reason here: their history stays readable, and a
    # revert, which would go around the workflow's services, is refused with this text.
    no_revert_reason = None

    def visible_history(self, request, records):
        """The recorded states the user may see (all, for unscoped reference data)."""
        return records

    def history_view(self, request, object_id, extra_context=None):
        self._history_subject(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._history_subject(request, object_id)
        state = self._recorded_state(object_id, version_id)
        if request.method == "POST":
            refusal = self.no_revert_reason
            if refusal is None and not self.has_change_permission(request, state):
                raise PermissionDenied
            if refusal is None and not self._state_in_scope(request, state):
                log_refused(request.user, self.model, {"history_id": version_id})
                refusal = _(
                    "This version belongs to a district outside your scope; it cannot be restored."
                )
            if refusal is not None:
                self.message_user(request, refusal, messages.ERROR)
                opts = self.opts
                return redirect(
                    reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_history",
                        args=[state.pk],
                        current_app=self.admin_site.name,
                    )
                )
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return (
            self.no_revert_reason is not None
            or not self.has_change_permission(request, obj)
            or not self._state_in_scope(request, obj)
        )

    def _history(self):
        return getattr(self.model, self.opts.simple_history_manager_attribute)

    def _history_subject(self, request, object_id):
        """The object whose history is asked for, if the admin shows it to the user: the live
        object, or the last recorded state of a deleted one."""
        lookup = _lookup(self.model, unquote(object_id))
        if lookup is None:
            raise Http404
        everything = self.model._default_manager.all()
        if everything.filter(**lookup).exists():
            return get_or_refuse(self.get_queryset(request), everything, request.user, **lookup)
        records = self._history().filter(**lookup)
        last = records.order_by("-history_date", "-history_id").first()
        if last is None:
            raise Http404
        if not self.visible_history(request, records.filter(pk=last.pk)).exists():
            log_refused(request.user, self.model, lookup)
            raise Http404
        return last.instance

    def _recorded_state(self, object_id, version_id):
        lookup = _lookup(self.model, unquote(object_id))
        history_id = _lookup(self._history().model, unquote(version_id))
        record = (
            self._history().filter(**lookup, **history_id).first()
            if lookup is not None and history_id is not None
            else None
        )
        if record is None:
            raise Http404
        return record.instance

    def _state_in_scope(self, request, obj) -> bool:
        # A recorded state carries its record (simple-history's `_history`); a live object
        # was already found through the admin's queryset.
        record = getattr(obj, "_history", None)
        if record is None:
            return True
        return self.visible_history(request, self._history().filter(pk=record.pk)).exists()


class FiguresShownMixin:
    """Figures on an admin page that shows an object read-only (to a view-only user, or a
    computed record nobody changes) read as people read them, with grouping and the unit
    (cluster.formatting: "400.00 万元" / "¥4.00 m"), not as stored ("4000000.00"). Editable
    forms keep the stored value in their inputs. `figure_fields` names the figures;
    `figure_text` says how one reads (money in 万元 unless an admin says otherwise)."""

    figure_fields: tuple[str, ...] = ()

    def figure_text(self, obj, value) -> str:
        return yuan_as_wan(value)

    def figure_shown(self, obj, name: str) -> str:
        value = getattr(obj, name)
        return self.get_empty_value_display() if value is None else self.figure_text(obj, value)

    def _figure_shown(self, name: str):
        # One function per figure and admin: the page's fieldsets and its read-only fields
        # must name the same object.
        cache = self.__dict__.setdefault("_figures_shown", {})
        if name not in cache:

            def shown(obj):
                return self.figure_shown(obj, name)

            shown.short_description = self.model._meta.get_field(name).verbose_name
            cache[name] = shown
        return cache[name]

    def _shows_figures(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not self._shows_figures(request, obj):
            return fields
        return (*fields, *(self._figure_shown(name) for name in self.figure_fields))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._shows_figures(request, obj):
            return fieldsets
        # Without declared fieldsets Django lists the read-only fields after the form's, so
        # a figure would come twice: once in its place, once at the end.
        seen = set()

        def once(names):
            for name in names:
                field = self._figure_shown(name) if name in self.figure_fields else name
                if field not in seen:
                    seen.add(field)
                    yield field

        return [
            (title, {**options, "fields": list(once(options["fields"]))})
            for title, options in fieldsets
        ]


class KeptAsMadeMixin:
    """Records kept as made: nobody changes or deletes one in the admin (assessments,
    releases, approved revisions, deliveries: a new record says what changed)."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdminMixin(KeptAsMadeMixin):
    """Records written only by the services and jobs: read in the admin, never added there."""

    def has_add_permission(self, request, *args):
        return False


class ScopedAdminMixin:
    """The one owner of the admin's scope: every view of the admin (lists, object pages,
    delete, history, revert, autocomplete, import, export) shows and offers only what the
    user's scope covers, like every other entry point (the model's queryset must be a
    ScopedQuerySet). Writing needs a role that may edit."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        """Another district's object does not exist here either: 404, logged as refused."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            field = self.model._meta.get_field(from_field) if from_field else None
            lookup = _lookup(self.model, object_id, field)
            if lookup is not None and self.model._default_manager.filter(**lookup).exists():
                log_refused(request.user, self.model, lookup)
            raise Http404
        return obj

    def visible_history(self, request, records):
        return visible_history(records, self.model, request.user)

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

    def has_delete_permission(self, request, obj=None):
        return self._can_edit(request, obj) and super().has_delete_permission(request, obj)


@admin.register(Cluster)
class ClusterAdmin(HistoryAdmin):
    list_display = ("key", "name_zh", "name_en", "sort_order")
    search_fields = ("key", "name_zh", "name_en")


@admin.register(Plan)
class PlanAdmin(HistoryAdmin):
    """Plans are loaded from plan files (Targets › Load a plan file); the document's details
    can be corrected here."""

    list_display = ("key", "name_zh", "cluster", "starts_on", "ends_on", "document_number")
    list_filter = ("cluster",)
    search_fields = ("key", "name_zh", "name_en", "document_number")
    readonly_fields = ("definition",)

    # A plan file adds a plan (with its targets, through the loader's rules); a plan with
    # targets, snapshots and an evaluation behind it is never deleted.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ParkInline(admin.TabularInline):
    model = Park
    extra = 0


@admin.register(District)
class DistrictAdmin(HistoryAdmin):
    list_display = ("name_zh", "name_en", "code", "code_system", "kind", "parent", "sort_order")
    list_filter = ("kind", "code_system")
    list_select_related = ("parent",)
    search_fields = ("name_zh", "name_en", "code")
    inlines = [ParkInline]


@admin.register(Park)
class ParkAdmin(HistoryAdmin):
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
class SectorAdmin(HistoryAdmin):
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

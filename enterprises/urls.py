from django.urls import include, path

from .views import imports, register, reporting, review

reports = (
    [
        path("", reporting.completeness_page, name="completeness"),
        path("import/", imports.import_page, name="import"),
        path("import/<str:token>/", imports.preview_page, name="import-preview"),
        path("import/<str:token>/confirm/", imports.confirm_page, name="import-confirm"),
        path("template/<str:kind>.<str:fmt>", imports.template_page, name="template"),
        path("queue/", review.review_queue_page, name="queue"),
        path("queue/review/", review.review_queue_act, name="queue-review"),
        path("<int:district_id>/<str:period>/", reporting.worksheet_page, name="worksheet"),
        path(
            "<int:district_id>/<str:period>/rows/<int:enterprise_id>/",
            reporting.row_page,
            name="row",
        ),
        path("<int:district_id>/<str:period>/submit/", reporting.submit_page, name="submit"),
        path("<int:district_id>/<str:period>/review/", reporting.review_page, name="review"),
        path(
            "<int:district_id>/<str:period>/export.<str:fmt>",
            reporting.export_page,
            name="export",
        ),
    ],
    "reports",
)

enterprises = (
    [
        path("", register.enterprise_list, name="list"),
        path("new/", register.enterprise_create, name="create"),
        path("check-uscc/", register.uscc_check, name="check-uscc"),
        path("export.<str:fmt>", register.enterprise_export, name="export"),
        path("<int:pk>/edit/", register.enterprise_edit, name="edit"),
    ],
    "enterprises",
)

urlpatterns = [
    path("reports/", include(reports)),
    path("enterprises/", include(enterprises)),
]

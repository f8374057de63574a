from django.urls import path

from incidents.public import browse_views, export_job_views, list_views, views
from incidents.public.feeds import IncidentFeed

app_name = "incidents"

urlpatterns = [
    # The filterable case list and the Atom feed of any of its views (same query string).
    path("incidents/", list_views.incident_list, name="incident_list"),
    path("incidents/feed.atom", IncidentFeed(), name="incident_feed"),
    # Exports of the case list's current filter (same query string as /incidents/).
    path("incidents/export.csv", browse_views.incidents_csv, name="incidents_csv"),
    path("incidents/detentions.csv", browse_views.detentions_csv, name="detentions_csv"),
    path("incidents/export.json", browse_views.incidents_json, name="incidents_json"),
    path("search/", browse_views.search_view, name="search"),
    path("statements/", browse_views.statement_list, name="statement_list"),
    path("statements/export.csv", browse_views.statements_csv, name="statements_csv"),
    path("about/", browse_views.about, name="about"),
    # An export too large to stream: its job's page (progress, then the file) and the file.
    path("exports/<slug:token>/", export_job_views.export_job, name="export_job"),
    path(
        "exports/<slug:token>/download",
        export_job_views.export_download,
        name="export_download",
    ),
    path("incidents/<slug:slug>/", views.incident_detail, name="incident_detail"),
    path("situations/<slug:slug>/", views.situation_detail, name="situation_detail"),
    path("places/<slug:slug>/", views.location_detail, name="location_detail"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
]

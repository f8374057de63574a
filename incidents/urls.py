from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("incidents/<slug:slug>/", views.incident_detail, name="incident_detail"),
    path("situations/<slug:slug>/", views.situation_detail, name="situation_detail"),
    path("places/<slug:slug>/", views.location_detail, name="location_detail"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
]

"""Root URL configuration: the admin, then each app's pages under its own namespace."""

from django.contrib import admin
from django.urls import include, path

from incidents import views as incident_views

urlpatterns = [
    # The home page is the list of cases; it lives in the incidents app but is named at the
    # root so templates and redirects can say `{% url 'home' %}`.
    path("", incident_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("incidents.urls")),
    path("", include("people.urls")),
]

"""The REST API v1, mounted at /api/v1/: the resources, the removals feed, the OpenAPI
schema and its interactive documentation. Every view states its permission classes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter

from incidents.api import views as incidents
from people.api import views as people

app_name = "api"


class ApiRootView(APIRootView):
    """The detention case tracker API. Schema: /api/v1/schema/, docs: /api/v1/docs/."""

    permission_classes = [AllowAny]


class Router(DefaultRouter):
    APIRootView = ApiRootView


router = Router()
router.register("incidents", incidents.IncidentViewSet, basename="incident")
router.register("detentions", incidents.DetentionViewSet, basename="detention")
router.register("people", people.PersonViewSet, basename="person")
router.register("organizations", people.OrganizationViewSet, basename="organization")
router.register("positions", people.PositionViewSet, basename="position")
router.register("locations", incidents.LocationViewSet, basename="location")
router.register("situations", incidents.SituationViewSet, basename="situation")
router.register("statements", incidents.StatementViewSet, basename="statement")
router.register("sources", incidents.SourceViewSet, basename="source")

urlpatterns = [
    path("removals/", incidents.RemovalsView.as_view(), name="removals"),
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny]),
        name="schema",
    ),
    path(
        "docs/",
        # The split view loads its script from ?script, so the page needs no inline
        # script under the Content Security Policy; Swagger UI comes from the sidecar
        # package, served by the app (no CDN).
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema",
            permission_classes=[AllowAny],
            template_name="api/swagger_ui.html",
        ),
        name="docs",
    ),
    path("", include(router.urls)),
]

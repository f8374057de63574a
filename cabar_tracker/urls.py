"""Root URL configuration: the admin, then each app's pages under its own namespace."""

from django.contrib import admin
from django.urls import include, path

from accounts.staff import second_factor
from cabar_tracker.api import token_views as api_token_views
from incidents.public import views as incident_views

urlpatterns = [
    # The home page is the list of cases; it lives in the incidents app but is named at the
    # root so templates and redirects can say `{% url 'home' %}`.
    path("", incident_views.home, name="home"),
    path("admin/", admin.site.urls),
    # The REST API v1, its schema and docs (cabar_tracker/api_urls.py).
    path("api/v1/", include("cabar_tracker.api.urls")),
    # Staff create, list and revoke their own API tokens here.
    path("account/api-token/", api_token_views.api_token, name="api_token"),
    path(
        "account/api-token/<int:pk>/revoke/",
        api_token_views.api_token_revoke,
        name="api_token_revoke",
    ),
    # The second factor every staff account passes after its password, and confirming who
    # one is before a sensitive action (accounts/staff/second_factor.py).
    path("accounts/second-factor/", second_factor.overview, name="second_factor"),
    path("accounts/second-factor/app/", second_factor.totp_setup, name="second_factor_totp"),
    path("accounts/second-factor/verify/", second_factor.verify, name="second_factor_verify"),
    path(
        "accounts/second-factor/recovery-codes/",
        second_factor.new_recovery_codes,
        name="second_factor_recovery_codes",
    ),
    path(
        "accounts/second-factor/<str:kind>/<int:pk>/remove/",
        second_factor.remove_factor,
        name="second_factor_remove",
    ),
    path("accounts/reauthenticate/", second_factor.reauthenticate, name="reauthenticate"),
    # Passkeys and security keys: the WebAuthn ceremonies (accounts/webauthn.py).
    path("accounts/passkeys/", include("accounts.webauthn")),
    # Login, logout and password change for staff (templates in templates/registration/).
    path("accounts/", include("django.contrib.auth.urls")),
    # The staff side: data entry, review, history (cabar_tracker/staff_urls.py).
    path("staff/", include("cabar_tracker.staff.urls")),
    # set_language (POST) stores the reader's choice in a cookie; URLs stay the same in
    # every language, so a shared link opens in whatever language the reader has chosen.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("incidents.public.urls")),
    path("", include("people.public.urls")),
    # Downloads of captured sources and attached files (evidence/public/views.py).
    path("", include("evidence.public.urls")),
]

# JSON for the API's errors, HTML for the pages' (cabar_tracker/errors.py).
handler400 = "cabar_tracker.errors.bad_request"
handler403 = "cabar_tracker.errors.permission_denied"
handler404 = "cabar_tracker.errors.page_not_found"
handler500 = "cabar_tracker.errors.server_error"

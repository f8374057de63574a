"""URLs of the staff side, mounted at /staff/. Every view here is wrapped in
`cabar_tracker.staff.access.staff_required`; tests/staff/test_access.py walks them all."""

from django.urls import path

from accounts.staff import views as accounts_staff
from cabar_tracker.staff import history_views, proposals
from evidence.staff import views as evidence_staff
from incidents import models as incident_models
from incidents.staff import account_views, desk, entry_views, followups, import_views
from incidents.staff import views as incident_staff
from people import models as people_models
from people.staff import views as people_staff

app_name = "staff"

urlpatterns = [
    path("", desk.dashboard, name="dashboard"),
    # Entering a detention in one sitting, and the duplicate-person search it uses.
    path("detentions/new/", entry_views.new_detention, name="new_detention"),
    path("people/candidates.json", entry_views.person_candidates, name="person_candidates"),
    # Follow-up actions on detentions, and the lists that keep cases from being forgotten.
    path(
        "detentions/<int:detention_pk>/follow-ups/new/",
        followups.followup_add,
        name="followup_add",
    ),
    path("follow-ups/<int:pk>/done/", followups.followup_done, name="followup_done"),
    path("follow-ups/", followups.followups_due, name="followups_due"),
    path("still-held/", followups.still_held, name="still_held"),
    # Bulk import of detentions from CSV (incidents/importer.py).
    path("import/", import_views.import_page, name="import"),
    path("import/<int:pk>/", import_views.import_job, name="import_job"),
    # Edit pages, archive/restore, review, history and merging (incidents/staff/views.py,
    # people/staff/views.py, cabar_tracker/staff/history_views.py).
    path("incidents/<int:pk>/edit/", incident_staff.incident_edit, name="incident_edit"),
    path("detentions/<int:pk>/edit/", incident_staff.detention_edit, name="detention_edit"),
    path("statements/new/", incident_staff.statement_add, name="statement_add"),
    path("statements/<int:pk>/edit/", incident_staff.statement_edit, name="statement_edit"),
    path("sources/new/", incident_staff.source_add, name="source_add"),
    path("sources/<int:pk>/edit/", incident_staff.source_edit, name="source_edit"),
    # Evidence (evidence/): capture a source's address, attach files, the fixity check.
    path("sources/<int:pk>/capture/", evidence_staff.capture_source, name="source_capture"),
    path("captures/<int:pk>/retry/", evidence_staff.capture_retry, name="capture_retry"),
    path(
        "sources/<int:pk>/attachments/new/",
        evidence_staff.source_attachment_add,
        name="source_attachment_add",
    ),
    path(
        "incidents/<int:pk>/attachments/new/",
        evidence_staff.incident_attachment_add,
        name="incident_attachment_add",
    ),
    path(
        "detentions/<int:pk>/attachments/new/",
        evidence_staff.detention_attachment_add,
        name="detention_attachment_add",
    ),
    path(
        "attachments/<int:pk>/public/",
        evidence_staff.attachment_public,
        name="attachment_public",
    ),
    path(
        "attachments/<int:pk>/remove/",
        evidence_staff.attachment_remove,
        name="attachment_remove",
    ),
    path("evidence/check/", evidence_staff.fixity_run, name="fixity_run"),
    path("locations/new/", incident_staff.location_add, name="location_add"),
    path("locations/<int:pk>/edit/", incident_staff.location_edit, name="location_edit"),
    # The rows of a case: an incident's timeline events and reported groups (numbers of
    # people by citizenship), a detention's allegations.
    path(
        "incidents/<int:incident_pk>/events/new/",
        incident_staff.incidentevent_add,
        name="incidentevent_add",
    ),
    path("events/<int:pk>/edit/", incident_staff.incidentevent_edit, name="incidentevent_edit"),
    path(
        "events/<int:pk>/delete/",
        incident_staff.child_remove,
        {"model": incident_models.IncidentEvent, "parent_field": "incident"},
        name="incidentevent_delete",
    ),
    path(
        "incidents/<int:incident_pk>/reported-groups/new/",
        incident_staff.reportedgroup_add,
        name="reportedgroup_add",
    ),
    path(
        "reported-groups/<int:pk>/edit/",
        incident_staff.reportedgroup_edit,
        name="reportedgroup_edit",
    ),
    path(
        "reported-groups/<int:pk>/delete/",
        incident_staff.child_remove,
        {"model": incident_models.ReportedGroup, "parent_field": "incident"},
        name="reportedgroup_delete",
    ),
    path(
        "detentions/<int:detention_pk>/allegations/new/",
        incident_staff.allegation_add,
        name="allegation_add",
    ),
    path("allegations/<int:pk>/edit/", incident_staff.allegation_edit, name="allegation_edit"),
    path(
        "allegations/<int:pk>/delete/",
        incident_staff.child_remove,
        {"model": incident_models.Allegation, "parent_field": "detention"},
        name="allegation_delete",
    ),
    # The accounts of a record's facts (who says what, with which sources; one preferred).
    path(
        "incidents/<int:incident_pk>/accounts/new/",
        account_views.incident_account_add,
        name="incident_account_add",
    ),
    path(
        "detentions/<int:detention_pk>/accounts/new/",
        account_views.detention_account_add,
        name="detention_account_add",
    ),
    path(
        "allegations/<int:allegation_pk>/accounts/new/",
        account_views.allegation_account_add,
        name="allegation_account_add",
    ),
    path("accounts/<int:pk>/edit/", account_views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/prefer/", account_views.account_prefer, name="account_prefer"),
    path("accounts/<int:pk>/delete/", account_views.account_remove, name="account_delete"),
    path("people/new/", people_staff.person_add, name="person_add"),
    path("people/<int:pk>/edit/", people_staff.person_edit, name="person_edit"),
    path("people/<int:pk>/merge/", people_staff.person_merge, name="person_merge"),
    # Archiving is deleting: archived records leave the site and can be restored.
    path(
        "incidents/<int:pk>/archive/",
        incident_staff.set_archived,
        {"model": incident_models.Incident, "archived": True},
        name="incident_archive",
    ),
    path(
        "incidents/<int:pk>/restore/",
        incident_staff.set_archived,
        {"model": incident_models.Incident, "archived": False},
        name="incident_restore",
    ),
    path(
        "detentions/<int:pk>/archive/",
        incident_staff.set_archived,
        {"model": incident_models.Detention, "archived": True},
        name="detention_archive",
    ),
    path(
        "detentions/<int:pk>/restore/",
        incident_staff.set_archived,
        {"model": incident_models.Detention, "archived": False},
        name="detention_restore",
    ),
    path(
        "people/<int:pk>/archive/",
        incident_staff.set_archived,
        {"model": people_models.Person, "archived": True},
        name="person_archive",
    ),
    path(
        "people/<int:pk>/restore/",
        incident_staff.set_archived,
        {"model": people_models.Person, "archived": False},
        name="person_restore",
    ),
    path(
        "statements/<int:pk>/archive/",
        incident_staff.set_archived,
        {"model": incident_models.Statement, "archived": True},
        name="statement_archive",
    ),
    path(
        "statements/<int:pk>/restore/",
        incident_staff.set_archived,
        {"model": incident_models.Statement, "archived": False},
        name="statement_restore",
    ),
    path(
        "sources/<int:pk>/archive/",
        incident_staff.set_archived,
        {"model": incident_models.Source, "archived": True},
        name="source_archive",
    ),
    path(
        "sources/<int:pk>/restore/",
        incident_staff.set_archived,
        {"model": incident_models.Source, "archived": False},
        name="source_restore",
    ),
    path("archived/", incident_staff.archived_list, name="archived"),
    # The security log, for the admin role (accounts/security_log.py).
    path("security-log/", accounts_staff.security_log, name="security_log"),
    # Staff accounts and resetting a colleague's second factors, for the admin role.
    path("accounts/", accounts_staff.staff_accounts, name="accounts"),
    path(
        "accounts/<int:pk>/reset-second-factor/",
        accounts_staff.reset_second_factor,
        name="reset_second_factor",
    ),
    path("review/", incident_staff.review_queue_page, name="review_queue"),
    # Everything of one case waiting for review, published in one step.
    path(
        "review/cases/<int:pk>/publish/",
        incident_staff.publish_whole_case,
        name="incident_publish_case",
    ),
    # Proposed changes to public records (incidents/revisions.py).
    path("proposals/<int:pk>/publish/", proposals.publish_proposal, name="proposal_publish"),
    path("proposals/<int:pk>/return/", proposals.return_proposal, name="proposal_return"),
    # The review workflow (incidents/workflow.py); POST only.
    path(
        "workflow/<str:model_name>/<int:pk>/submit/",
        incident_staff.change_state,
        {"action": "submit"},
        name="submit_for_review",
    ),
    path(
        "workflow/<str:model_name>/<int:pk>/publish/",
        incident_staff.change_state,
        {"action": "publish"},
        name="publish",
    ),
    path(
        "workflow/<str:model_name>/<int:pk>/unpublish/",
        incident_staff.change_state,
        {"action": "unpublish"},
        name="unpublish",
    ),
    path(
        "workflow/<str:model_name>/<int:pk>/return/",
        incident_staff.change_state,
        {"action": "return"},
        name="return_to_draft",
    ),
    path(
        "history/<str:app_label>/<str:model_name>/<int:pk>/",
        history_views.history,
        name="history",
    ),
    path(
        "history/<str:app_label>/<str:model_name>/<int:pk>/revert/<int:history_id>/",
        history_views.revert,
        name="history_revert",
    ),
    path(
        "history/<str:app_label>/<str:model_name>/<int:pk>/undo/<int:history_id>/<str:field_name>/",
        history_views.undo_field,
        name="history_undo_field",
    ),
]

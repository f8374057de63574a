"""The base of every write serializer: validate like the model does, publish only if allowed.

DRF's ModelSerializer does not call `Model.full_clean()`, so the models' own rules (a
release not before the detention, a precision with every date, a speaker for a statement)
would be skipped and surface as a database error or not at all. Here every write runs
`full_clean()` on the record as it would be saved, and reports each error on the field it
belongs to (400, nothing saved).
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.settings import api_settings

from cabar_tracker.api.permissions import RecordAccess
from cabar_tracker.publishing import PublicationState, PublishableModel, ReviewerOnlyChange
from incidents import revisions


def record_link(model, *, many: bool = False, optional: bool = False):
    """A writable link by id to records of `model`, for the write serializers of both apps.

    An archived record cannot be linked (it is gone from the site); records that are not
    archived (places, organizations, posts) can all be. A list of links (`many`) may be left
    out; a single link is required unless `optional`, which also lets it be null.
    """
    manager = model._default_manager
    queryset = manager.not_archived() if hasattr(manager, "not_archived") else manager.all()
    if many:
        return serializers.PrimaryKeyRelatedField(queryset=queryset, many=True, required=False)
    if optional:
        return serializers.PrimaryKeyRelatedField(
            queryset=queryset, allow_null=True, required=False
        )
    return serializers.PrimaryKeyRelatedField(queryset=queryset)


class RecordWriteSerializer(serializers.ModelSerializer):
    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        self._check_publication(attrs)
        self._full_clean(attrs)
        return attrs

    def _check_publication(self, attrs: dict) -> None:
        if "publication_state" not in attrs:
            return
        request = self.context.get("request")
        user = getattr(request, "user", None)
        was = self.instance is not None and self.instance.is_published
        will = attrs["publication_state"] == PublicationState.PUBLISHED
        if not RecordAccess.may_change_publication(user, was_published=was, will_be_published=will):
            raise PermissionDenied(
                {"publication_state": ["Only a publisher may publish or unpublish a record."]}
            )
        if will and not was:
            self._check_completeness(attrs)

    def _check_completeness(self, attrs: dict) -> None:
        """Publishing through the API passes the same checks as the review pages
        (incidents.workflow.missing_for_publication): at least one source, and so on."""
        from incidents.workflow import missing_for_publication

        if self.instance is None:
            raise serializers.ValidationError(
                {
                    "publication_state": [
                        "Create the record as a draft with its sources first, then publish it."
                    ]
                }
            )
        record = copy.copy(self.instance)
        for name, value in attrs.items():
            if name not in {field.name for field in record._meta.many_to_many}:
                setattr(record, name, value)
        missing = missing_for_publication(record, validate=False)
        if missing:
            raise serializers.ValidationError(
                {"publication_state": [f"Cannot publish yet; missing: {', '.join(missing)}."]}
            )

    def _full_clean(self, attrs: dict) -> None:
        model = self.Meta.model
        many_to_many = {field.name for field in model._meta.many_to_many}
        # A copy, so a failed validation leaves the loaded record as it was.
        record = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            if name not in many_to_many:
                setattr(record, name, value)
        try:
            record.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(self._errors_by_field(error)) from None
        # The rule that saving enforces anyway (PublishableModel.save), asked before anything
        # is written so the answer is a clear 403 with the reason.
        # A change to a public record by an editor is proposed for review instead
        # (RecordViewSet.proposal_response): the reviewer decides then.
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if isinstance(record, PublishableModel) and not revisions.needs_review(self.instance, user):
            try:
                record.check_reviewer_only_changes(getattr(request, "user", None))
            except ReviewerOnlyChange as refusal:
                raise PermissionDenied(str(refusal)) from None

    def _errors_by_field(self, error: DjangoValidationError) -> dict:
        """The model's errors under the API's field names (`web_url` for a source's `url`;
        a partial date's `<date>_precision` under the date, which is one field here)."""
        api_names = {}
        for name, field in self.fields.items():
            if field.source == "*":
                date_field = getattr(field, "date_field", None)
                api_names.update({date_field: name, f"{date_field}_precision": name})
            else:
                api_names[field.source] = name
        errors: dict[str, list[str]] = {}
        for name, messages in error.message_dict.items():
            key = api_names.get(name, api_settings.NON_FIELD_ERRORS_KEY)
            errors.setdefault(key, []).extend(messages)
        return errors

"""What each code in the data means, in one sentence each, for the "About the data" page.

The labels come from the models' TextChoices, so a renamed label shows up here by itself; the
definitions are written here. Exports carry the codes (`mass_detention`), so a reader of a CSV
file finds each code, its label and its definition on the About page. A test checks that every
choice has a definition, so a new kind cannot be added without saying what it means.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    AllegationKind,
    AllegationStatus,
    DisputeStatus,
    Fact,
    IncidentKind,
    Outcome,
    Verification,
)
from incidents.partial_dates import DatePrecision

INCIDENT_KIND_DEFINITIONS = {
    IncidentKind.DETENTION: _(
        "One person, or a few named people, deprived of their liberty by officials."
    ),
    IncidentKind.MASS_DETENTION: _(
        "Many people detained together in one operation, often known only by a reported "
        "number rather than by name."
    ),
    IncidentKind.ILL_TREATMENT: _(
        "Beating or other cruel, inhuman or degrading treatment of a person in custody or "
        "at the hands of officials."
    ),
    IncidentKind.DEPORTATION: _(
        "A person expelled, deported or handed over to another country's authorities."
    ),
    IncidentKind.DISAPPEARANCE: _(
        "A person taken by officials whose fate or whereabouts the authorities do not acknowledge."
    ),
    IncidentKind.OTHER: _("An incident that fits none of the kinds above; its summary says what."),
}

ALLEGATION_KIND_DEFINITIONS = {
    AllegationKind.ILL_TREATMENT: _(
        "The person was reported beaten or otherwise physically mistreated."
    ),
    AllegationKind.TORTURE: _(
        "Severe pain or suffering was reported to have been inflicted on purpose, for example "
        "to obtain information or a confession."
    ),
    AllegationKind.FORCED_CONFESSION: _(
        "The person was reported to have been made to confess or to read out a statement "
        "under pressure, for example on camera."
    ),
    AllegationKind.NO_LAWYER: _("The person was reported to have been denied access to a lawyer."),
    AllegationKind.NO_CONSULAR_ACCESS: _(
        "The person's consulate was reported to have been kept from contacting or visiting them."
    ),
    AllegationKind.INCOMMUNICADO: _(
        "The person was reported held without contact with family, lawyer or the outside world."
    ),
    AllegationKind.MISIDENTIFICATION: _(
        "The authorities were reported to have named the person as someone else, or someone "
        "else as the person."
    ),
    AllegationKind.OTHER: _("Another allegation; its description says what."),
}

OUTCOME_DEFINITIONS = {
    Outcome.STILL_HELD: _("The person was in custody at the time of the latest source."),
    Outcome.RELEASED: _("The person was let go, with or without conditions."),
    Outcome.HANDED_OVER: _(
        "The person was deported, extradited or handed over to another country's authorities."
    ),
    Outcome.CHARGED: _("The person was formally charged with an offence."),
    Outcome.CONVICTED: _("A court found the person guilty."),
    Outcome.UNKNOWN: _("The sources do not say what became of the person."),
}

VERIFICATION_DEFINITIONS = {
    Verification.REPORTED: _("Reported by one source and not yet checked against another."),
    Verification.CORROBORATED: _("Reported by at least two sources independent of each other."),
    Verification.CONFIRMED: _(
        "Confirmed by the people concerned, their lawyers or an official record."
    ),
    Verification.DISPUTED: _("Contradicted by another credible source; the dispute is described."),
    Verification.REFUTED: _("Shown to be false; kept so the record of the claim is not lost."),
}

DATE_PRECISION_DEFINITIONS = {
    DatePrecision.DAY: _("The day is known: shown as “7 January 2022”, exported as 2022-01-07."),
    DatePrecision.MONTH: _(
        "Only the month is known: shown as “January 2022”, exported as 2022-01."
    ),
    DatePrecision.YEAR: _("Only the year is known: shown as “2022”, exported as 2022."),
    DatePrecision.APPROXIMATE: _(
        "The sources give a day only roughly: shown as “around 10 January 2022”, exported as "
        "2022-01-10 with the precision “approximate”."
    ),
}

DISPUTE_STATUS_DEFINITIONS = {
    DisputeStatus.NOT_DISPUTED: _("No source we know of contradicts the statement."),
    DisputeStatus.DISPUTED: _(
        "Another credible source contradicts the statement; the note says who and how."
    ),
    DisputeStatus.REFUTED: _("The statement was shown to be false; the note says how."),
}


ALLEGATION_STATUS_DEFINITIONS = {
    AllegationStatus.ALLEGED: _("Someone alleged it; nobody we know of has withdrawn it."),
    AllegationStatus.DENIED: _(
        "Denied, by the person concerned or by another; the accounts say by whom and where."
    ),
    AllegationStatus.RETRACTED: _("Whoever made the allegation has withdrawn it."),
    AllegationStatus.CONFIRMED: _("An investigation, a court or a credible body confirmed it."),
}

FACT_DEFINITIONS = {
    Fact.INCIDENT_DATE: _("When the incident happened (incident_start_date)."),
    Fact.INCIDENT_PLACE: _("Where it happened, as a place's identifier (place_slug)."),
    Fact.DETENTION_DATE: _("When the person was detained (detained_on)."),
    Fact.ARREST_PLACE: _("Where the person was arrested (arrest_place_slug)."),
    Fact.DETAINING_AUTHORITY: _(
        "Who detained the person: an organization's identifier or the source's words "
        "(detaining_organization_slug, detaining_authority)."
    ),
    Fact.CUSTODY_PLACE: _("Where the person was held (custody_place_slug)."),
    Fact.RELEASE_DATE: _("When the person was released or handed over (released_on)."),
    Fact.RELEASE_PLACE: _("Where the person was released or handed over (release_place_slug)."),
    Fact.OUTCOME: _("What became of the person, as an outcome code (outcome)."),
    Fact.REPORTED_AGE: _("The person's age at the time, as reported (reported_age)."),
    Fact.ALLEGATION_STATUS: _(
        "Whether an allegation stands, as a status code; the allegation's kind follows in "
        "brackets (allegation_statuses)."
    ),
}


@dataclass(frozen=True)
class Term:
    code: str
    label: str | Promise
    definition: str | Promise


@dataclass(frozen=True)
class Vocabulary:
    """One list of codes, as the About page shows it under a heading."""

    anchor: str
    title: str | Promise
    export_columns: str  # the export columns that hold these codes
    terms: list[Term]


def _terms(choices: type[models.TextChoices], definitions: dict[str, str | Promise]) -> list[Term]:
    return [Term(choice.value, choice.label, definitions[choice]) for choice in choices]


def vocabularies() -> list[Vocabulary]:
    """Every vocabulary the exports use, in the order the About page lists them."""
    return [
        Vocabulary(
            "incident-kinds",
            _("Kinds of incident"),
            "incident_kind",
            _terms(IncidentKind, INCIDENT_KIND_DEFINITIONS),
        ),
        Vocabulary(
            "allegations",
            _("Allegations"),
            "allegations",
            _terms(AllegationKind, ALLEGATION_KIND_DEFINITIONS),
        ),
        Vocabulary("outcomes", _("Outcomes"), "outcome", _terms(Outcome, OUTCOME_DEFINITIONS)),
        Vocabulary(
            "verification",
            _("Verification status"),
            "verification",
            _terms(Verification, VERIFICATION_DEFINITIONS),
        ),
        Vocabulary(
            "date-precision",
            _("Date precision"),
            "*_precision",
            _terms(DatePrecision, DATE_PRECISION_DEFINITIONS),
        ),
        Vocabulary(
            "allegation-status",
            _("Status of an allegation"),
            "allegation_statuses",
            _terms(AllegationStatus, ALLEGATION_STATUS_DEFINITIONS),
        ),
        Vocabulary(
            "account-facts",
            _("Facts told by several accounts"),
            "other_accounts",
            _terms(Fact, FACT_DEFINITIONS),
        ),
        Vocabulary(
            "dispute-status",
            _("Statements later disputed"),
            "dispute_status",
            _terms(DisputeStatus, DISPUTE_STATUS_DEFINITIONS),
        ),
    ]

"""The nominations' lists: the "waiting for me" queue and the filtered list, with
decisions on many at once.  Their routes are added to the nominations blueprint
by :mod:`.views`."""

from __future__ import annotations

from typing import Any, cast

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts.permissions import can
from ..districts.models import District
from ..errors import DomainError, Forbidden, ValidationFailed
from ..extensions import db
from ..forms import apply_errors
from ..http import actor, refused, require
from ..i18n import locale_code
from ..medals.models import Medal, MedalQuota
from . import lists, transitions, workflow
from .forms import (
    CATEGORY_LABELS,
    BulkForm,
    FilterForm,
)
from .models import Nomination, NominationDocument
from .views import bp, district_choices, dmy, medal_choices

# Withdrawing is left to the nomination page (one at a time, with a confirmation).
BULK_ACTIONS = ("submit", "recommend", "approve", "return", "reject")


FILTER_KEYS = ("status", "district", "medal", "category", "q")


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), 1_000_000)


def _queue_actions(user) -> list[str]:
    found = {
        t.action
        for role, states in workflow.QUEUE_STATES.items()
        if user.has_role(role)
        for state in states
        for t in workflow.available(state)
        if t.role == role
    }
    return [a for a in BULK_ACTIONS if a in found]


def _list_actions(user) -> list[str]:
    found = {t.action for t in workflow.TRANSITIONS if user.has_role(t.role)}
    return [a for a in BULK_ACTIONS if a in found]


def _bulk_message(action: str, done: list[Nomination]) -> str:
    n = len(done)
    if action == "approve":
        first = done[0]
        return ngettext(
            "Approved %(num)d nomination under decree № %(number)s of %(date)s.",
            "Approved %(num)d nominations under decree № %(number)s of %(date)s.",
            n,
            number=first.decree_number,
            date=dmy(first.decree_date),
        )
    messages = {
        "submit": ngettext("Submitted %(num)d nomination for review.", "Submitted %(num)d nominations for review.", n),
        "recommend": ngettext(
            "Recommended %(num)d nomination to the commission.", "Recommended %(num)d nominations to the commission.", n
        ),
        "return": ngettext("Returned %(num)d nomination for changes.", "Returned %(num)d nominations for changes.", n),
        "reject": ngettext("Rejected %(num)d nomination.", "Rejected %(num)d nominations.", n),
    }
    return messages[action]


def _why_not(ids, action: str) -> list[str]:
    """After a refused bulk action: which ticked rows stopped it, and why."""
    try:
        wanted = sorted({int(i) for i in ids})[:1000]
    except (TypeError, ValueError):
        return []
    lines = []
    for n in db.session.scalars(select(Nomination).where(Nomination.id.in_(wanted)).order_by(Nomination.id)):
        if not can(current_user, "nominations.view", n):
            lines.append(_("№ %(id)d: %(message)s", id=n.id, message=Forbidden.default_message))
        else:
            try:
                transitions.check_transition(current_user, n, action)
            except DomainError as exc:
                lines.append(
                    _("№ %(id)d, %(name)s: %(message)s", id=n.id, name=n.nominee.full_name, message=exc.message)
                )
            else:
                if action == "submit" and n.possible_duplicate and not n.duplicate_confirmed:
                    lines.append(
                        _(
                            "№ %(id)d, %(name)s: %(message)s",
                            id=n.id,
                            name=n.nominee.full_name,
                            message=_("possible duplicate: open it, check and confirm before submitting."),
                        )
                    )
        if len(lines) >= 10:
            break
    return lines


def _certificates(rows: list[Nomination]) -> dict[int, Any]:
    """Nomination id -> its valid certificate, for the approved rows whose next
    step is the clerk's (print it, mark it presented): the queue links each row
    straight to that step.  The certificates come through the awards' backref
    (``nomination.awards``), so this layer never imports awards."""
    if not can(current_user, "awards.view"):
        return {}
    approved = [n for n in rows if n.status == workflow.NominationStatus.APPROVED]
    found: dict[int, Any] = {}
    for n in approved:
        for award in getattr(n, "awards", ()):
            if award.status == "valid":
                found[n.id] = award
    return found


def _here() -> str:
    """This list with its filters and page, without "tick all" (which is for one showing)."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in (*FILTER_KEYS, "page") and v}
    return url_for(cast(str, request.endpoint), **args)


def _bulk(form: BulkForm, actions: list[str]):
    """Apply the posted bulk action; a redirect when done, else the status to re-render with."""
    action = request.form.get("action", "")
    ids = request.form.getlist("ids")
    if action not in actions:
        form.form_errors.append(_("Choose one of the action buttons under the list."))
        return 400
    decision = {
        "comment": form.comment.data,
        "decree_number": form.decree_number.data,
        "decree_date": form.decree_date.data,
    }
    left_out: transitions.BulkApproval | None = None
    try:
        if action == "approve":
            # As many as each district's quota has places for, oldest first; the rest are named.
            left_out = transitions.approve_what_fits(db.session(), actor(), ids, **decision)
            done = left_out.approved
        else:
            done = transitions.bulk_transition(db.session(), actor(), ids, action, **decision)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc.fields)
        return 422
    except DomainError as exc:
        refused(exc, form, prefix=_("Nothing was changed."))
        if isinstance(exc, Forbidden) or exc.code in ("invalid_transition", "duplicate_nominee"):
            form.form_errors.extend(_why_not(ids, action))
        return exc.status
    flash(_bulk_message(action, done), "success")
    if left_out is not None and left_out.not_approved:
        for line in _not_approved_messages(left_out):
            flash(line, "error")
    return redirect(_here())


NAMED_AT_MOST = 30


def _not_approved_messages(outcome: transitions.BulkApproval) -> list[str]:
    """One line per district (and medal) whose quota left rows out, naming them."""
    lang = locale_code()
    groups: dict[tuple[int, int], list[Nomination]] = {}
    for n in outcome.not_approved:
        groups.setdefault((n.medal_id, n.district_id), []).append(n)
    lines = []
    for key, rows in groups.items():
        named = ", ".join(f"№ {n.id} {n.nominee.full_name}" for n in rows[:NAMED_AT_MOST])
        if len(rows) > NAMED_AT_MOST:
            named += " " + _("and %(num)d more", num=len(rows) - NAMED_AT_MOST)
        lines.append(
            ngettext(
                "%(num)d nomination was not approved: the quota of %(district)s for %(medal)s (%(quota)d) "
                "is full. It stays in the queue: %(rows)s.",
                "%(num)d nominations were not approved: the quota of %(district)s for %(medal)s (%(quota)d) "
                "is full. They stay in the queue: %(rows)s.",
                len(rows),
                district=rows[0].district.name(lang),
                medal=rows[0].medal.name(lang),
                quota=outcome.full_quotas.get(key, 0),
                rows=named,
            )
        )
    return lines


def _table_page(stmt, template: str, *, actions: list[str], status: int = 200, **context):
    """A page of nominations with ticks and the bulk form (GET shows, POST acts)."""
    form = BulkForm()
    selected: set[str] = set()
    if request.method == "POST" and stmt is not None:
        outcome = _bulk(form, actions)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
        selected = set(request.form.getlist("ids"))
    rows, pagination, documents, certificates = [], None, {}, {}
    if stmt is not None:
        pagination = db.paginate(
            stmt, page=_page_number(), per_page=current_app.config["AWARD_PAGE_SIZE"], error_out=False
        )
        if not pagination.items and pagination.page > 1 and request.method == "GET":
            args: dict[str, Any] = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
            return redirect(url_for(cast(str, request.endpoint), **args, page=max(pagination.pages, 1)))
        rows = pagination.items
        ids = [n.id for n in rows]
        certificates = _certificates(rows)
        if ids:
            documents = dict(
                db.session.execute(
                    select(NominationDocument.nomination_id, func.count())
                    .where(NominationDocument.nomination_id.in_(ids))
                    .group_by(NominationDocument.nomination_id)
                ).all()
            )
        if request.method == "GET" and request.args.get("select") == "all":
            selected = {str(i) for i in ids}
    return render_template(
        template,
        rows=rows,
        pagination=pagination,
        documents=documents,
        certificates=certificates,
        selected=selected,
        here=_here(),
        form=form,
        actions=actions,
        action_labels=workflow.ACTION_LABELS,
        # translated once here, not once per row
        row_text={"born": _("born %(date)s"), "submitted": _("submitted %(date)s")},
        status_labels={k: str(v) for k, v in workflow.STATUS_LABELS.items()},
        category_labels={k: str(v) for k, v in CATEGORY_LABELS.items()},
        **context,
    ), status


@bp.route("/queue", methods=["GET", "POST"])
@require("nominations.view")
def queue():
    districts = district_choices()
    filter_form = FilterForm(request.args)
    filter_form.set_choices(workflow.STATUS_LABELS.items(), districts, medal_choices())
    district = request.args.get("district") or None
    if district not in {code for code, _name in districts}:
        district = None  # not one of the user's districts: the whole queue
    # Oldest first: whoever waits longest is decided first (and, in a bulk
    # approval over a quota, gets the last places: transitions.approve_what_fits).
    stmt = lists.queue_query(current_user, district=district).order_by(None).order_by(Nomination.id)
    return _table_page(
        stmt,
        "nominations/queue.html",
        actions=_queue_actions(current_user),
        filter_form=filter_form,
        district_filter=len(districts) > 1,
        page_args={"district": district} if district else {},
        quotas=_quotas_of(district) if district else [],
    )


def _quotas_of(code: str) -> list[MedalQuota]:
    """The district's quotas of the active medals: how many places a decree still has."""
    return list(
        db.session.scalars(
            select(MedalQuota)
            .join(District, District.id == MedalQuota.district_id)
            .join(Medal, Medal.id == MedalQuota.medal_id)
            .where(District.code == code, Medal.active.is_(True))
            .order_by(Medal.id)
        )
    )


@bp.route("/", methods=["GET", "POST"])
@require("nominations.view")
def index():
    filter_form = FilterForm(request.args)
    filter_form.set_choices(workflow.STATUS_LABELS.items(), district_choices(), medal_choices())
    try:
        filters = lists.validate_filters(request.args)
    except ValidationFailed as exc:
        apply_errors(filter_form, exc.fields)
        return _table_page(
            None, "nominations/index.html", actions=[], filter_form=filter_form, filters={}, page_args={}, status=422
        )
    page_args = {k: v for k, v in filters.items() if v}
    stmt = lists.list_query(current_user, **filters)
    return _table_page(
        stmt,
        "nominations/index.html",
        actions=_list_actions(current_user),
        filter_form=filter_form,
        filters=filters,
        page_args=page_args,
    )

"""The manager's follow-up dashboard, a client's follow-up history, and the .ics export."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models.followups import FOLLOWUP_CHANNELS, NOTE_MAX
from portal.access import allow, client_or_404
from portal.labels import followup_labels
from portal.operations.followups import dashboard as dashboard_rows
from portal.operations.followups import due_for_calendar, history_query, log_followup, parse_date
from portal.pagination import page_arg, paginate
from portal.rules import followup as rules
from portal.rules.calendar import business_today
from portal.unit_of_work import unit_of_work

bp = Blueprint("followups", __name__)


def _form_context(**extra) -> dict:
    return {"flabels": followup_labels(), "grades": rules.GRADES, "channels": FOLLOWUP_CHANNELS,
            "note_max": NOTE_MAX, "today": business_today(), **extra}


@bp.route("/followups")
@allow("rm")
def dashboard():
    """Compact rows of due clients; `?log=<client_no>` opens the one log form, beside that client's row."""
    if current_user.manager_id is None:
        abort(404)
    open_for = (request.args.get("log") or "").strip()[:20] or None
    if open_for is not None:
        open_for = client_or_404(open_for)  # a manager's own book only
    return _render_dashboard(open_for)


def _render_dashboard(open_for=None, values=None, errors=None, status: int = 200):
    """The dashboard; `open_for` (a client) gets the log form, filled with `values` and marked with `errors`."""
    rows = dashboard_rows(current_user.manager_id)
    listed = {row.client_no for key in ("overdue", "today", "this_week") for row in rows[key]}
    return render_template("followups/dashboard.html", rows=rows, open_for=open_for,
                           open_listed=open_for is not None and open_for.client_no in listed,
                           values=values or {}, errors=errors or {}, **_form_context()), status


@bp.route("/clients/<client_no>/followups")
@allow("rm", "supervisor", "compliance")
def history(client_no: str):
    client = client_or_404(client_no)
    pagination = paginate(history_query(client), page_arg(), current_app.config["PER_PAGE"])
    return render_template("followups/history.html", client=client, pagination=pagination,
                           can_log=current_user.role == "rm", form_values={}, errors={}, **_form_context())


@bp.route("/clients/<client_no>/followups", methods=["POST"])
@allow("rm")
def log(client_no: str):
    client = client_or_404(client_no)  # a manager's own book only
    back_to_dashboard = request.form.get("next") == "dashboard"
    with unit_of_work() as work:
        entry = log_followup(client, logged_on=parse_date(request.form.get("date")),
                             channel=request.form.get("channel", ""), note=request.form.get("note"),
                             grade=request.form.get("grade", ""), by_user=current_user)
    if not work.ok:
        errors = {work.error.field or "form": work.error.message}
        if back_to_dashboard:
            # The same form again, open beside the client, with everything typed and the reason at its field.
            return _render_dashboard(client, request.form, errors, 400)
        pagination = paginate(history_query(client), 1, current_app.config["PER_PAGE"])
        return render_template("followups/history.html", client=client, pagination=pagination, can_log=True,
                               form_values=request.form, errors=errors, **_form_context()), 400
    flash(_("Follow-up logged for %(client)s; next follow-up due %(due)s.", client=client.name,
            due=entry.next_due.isoformat()), "success")
    if back_to_dashboard:
        return redirect(url_for("followups.dashboard"))
    return redirect(url_for("followups.history", client_no=client.client_no))


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets are folded (RFC 5545 3.1), never inside a UTF-8 character."""
    out, current = [], ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0]] + [" " + part for part in out[1:]]


@bp.route("/followups.ics")
@allow("rm")
def calendar():
    """The manager's due follow-ups (overdue and the next 90 days) as all-day events."""
    if current_user.manager_id is None:
        abort(404)
    host = request.host.split(":")[0] or "portal"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Client and Manager Portal//Follow-ups//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:" + _ics_text(_("Follow-ups"))]
    for client_no, name, grade, due in due_for_calendar(current_user.manager_id):
        summary = _("Follow up %(name)s (%(client_no)s), grade %(grade)s", name=name, client_no=client_no,
                    grade=grade or "-")
        lines += ["BEGIN:VEVENT",
                  f"UID:followup-{client_no}-{due:%Y%m%d}@{host}",
                  f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{due:%Y%m%d}",
                  "SUMMARY:" + _ics_text(summary),
                  "URL:" + url_for("followups.history", client_no=client_no, _external=True),
                  "TRANSP:TRANSPARENT",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    body = "".join(part + "\r\n" for line in lines for part in _fold(line))
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="followups.ics"'})

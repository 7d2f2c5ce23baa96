"""Every HTML page of the service on a 360-px phone and a 1280-px desktop, in Kazakh.

The pages come from the app's URL map: every GET route is either visited here
(with real ids from test data full of long Kazakh names, titles, venues and
e-mails, in the states that show the most: a full ceremony with a waiting list,
a checked-in registration, a nomination with its history, a revoked and a
reissued certificate, the door search with results) or named in ``EXCLUDED``
with the reason it renders no HTML page.  A new page that is neither fails
``test_every_get_route_is_checked_or_excluded``, so it cannot be missed.

A page fits when it answers 200 with HTML in Kazakh, the document does not
scroll sideways (``scrollWidth <= innerWidth``) and no element reaches past
the right edge of the viewport (not even inside a scrolling table wrapper,
where an "Admit" button would be out of sight).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_registration_browser import kazakh, visible_label

from award_service.actor import Actor
from award_service.awards import revocation
from award_service.awards import service as awards_service
from award_service.awards.models import Award
from award_service.ceremonies import checkin, registrations
from award_service.ceremonies.models import Registration
from award_service.extensions import db
from award_service.i18n import LANGUAGE_NAMES
from award_service.mail.models import OutboxMessage
from award_service.nominations import service as nominations
from award_service.nominations import transitions
from award_service.timeutil import utcnow
from tests.conftest import PASSWORD, registration_data
from tests.nomination_factories import *  # noqa: F403  (fixtures: medal)
from tests.nomination_factories import DECREE, nominee_data

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}

# GET routes that render no HTML page, each with the reason.  Every blueprint
# "api" route is JSON or a PDF (the JSON API, checked against its OpenAPI document).
EXCLUDED_BLUEPRINTS = {"api": "the JSON API: JSON and PDF answers, no pages"}
EXCLUDED = {
    "static": "the stylesheet and script files",
    "web.healthz": "liveness probe, plain text",
    "health.readyz": "readiness probe, JSON for load balancers and monitoring",
    "ceremonies.ticket": "the admission ticket, a PDF",
    "awards.certificate_pdf": "one certificate, a PDF",
    "awards.batch_pdf": "the certificates of a selection, one PDF",
    "awards.presentation_sheet_pdf": "the presentation sheet, a PDF",
    "staff_ceremonies.export_csv": "the registrations, a CSV file",
    "checkin.live_counts": "the door's live counts, JSON for the page's script",
    "nominations.download": "a nomination's uploaded document, the file itself",
    "nomination_io.export_csv": "the nominations, a CSV file",
    "nomination_io.export_xlsx": "the nominations, an XLSX file",
    "nomination_io.template_csv": "the import template, a CSV file",
    "nomination_io.template_xlsx": "the import template, an XLSX file",
    "nomination_io.example_csv": "the filled import example, a CSV file",
    "nomination_io.example_xlsx": "the filled import example, an XLSX file",
    "awards.decree_annex_pdf": "the decree annex, a PDF",
    "checkin.ticket": "a registration's ticket printed at the desk, a PDF",
    "metrics.metrics": "Prometheus metrics, plain text for the scraper",
}

# Long, real-looking text: hyphenated double surnames and given names, long
# patronymics, long titles and venues, long e-mails (no natural break point).
LONG_PERSON = "Қоңырбаева-Өтегенова Үміт-Іңкәр Ғұмарқызы"
LONG_EMAIL = "konyrbaeva-otegenova.umit-inkar.gumarkyzy@zhezkazgan-kalalyk-akimdigi.example.kz"
LONG_TITLE_KK = (
    "Ұлы Отан соғысындағы Жеңістің сексен жылдығына арналған салтанатты жиналыс және "
    "тыл еңбеккерлеріне мерейтойлық медальдарды табыс ету рәсімі"
)
LONG_TITLE_RU = (
    "Торжественное собрание, посвящённое восьмидесятилетию Победы в Великой Отечественной войне, "
    "и вручение юбилейных медалей труженикам тыла"
)
LONG_VENUE = "Жезқазған қалалық мәдениет және өнер орталығының үлкен концерттік залы (Сәтбаев даңғылы)"
LONG_ADDRESS = "Ұлытау облысы, Жезқазған қаласы, Қаныш Сәтбаев даңғылы, 110-үй, бірінші қабат"
LONG_FILENAME = "Жезқазған_мұрағаты_анықтама_№_1234-5678_Құдайбергенова-Бекмұхамбетова_1942-1945_жж.pdf"
NOMINEE = {
    "surname": "Құдайбергенова-Бекмұхамбетова",
    "given_name": "Гүлсім-Әйгерім",
    "patronymic": "Төлеутайқызы",
    "address": "Ұлытау облысы, Жезқазған қаласы, Желтоқсан көшесі, 12-үй, 345-пәтер, Ғарышкерлер шағынауданы",
}
STAFF_NAMES = {
    "admin": "Бекмұхамбетова-Сұлтанова Айгерім-Гүлназ Төлеутайқызы",
    "organiser": "Жақыпбекова-Ермекова Гүлнар-Сәуле Бақытжанқызы",
    "clerk": "Оспанова-Құдайбергенова Гүлмира-Әсел Серікбайқызы",
    "commission": "Сұлтанмахмұтов-Әбдірахманов Бақытжан-Төлеген Ысқақұлы",
    "nominator": "Мұқанова-Сейітқызы Айгүл-Жұлдыз Нұрмұхамбетқызы",
    "reviewer": "Ахметова-Жанболатова Гүлнар-Дария Әбенқызы",
}


@dataclass(frozen=True)
class Page:
    endpoint: str
    url: str
    role: str | None  # None: the public, not logged in
    note: str = ""
    status: int = 200


@pytest.fixture
def showcase(app, make_user, make_ceremony, medal):
    """Test data in the states that show the most, with long names everywhere;
    returns the pages to visit."""
    system = Actor.system("test")
    users = {
        role: make_user(
            role,
            district="zhezkazgan" if role in ("nominator", "reviewer") else None,
            name=name,
            email=f"{role}.{LONG_EMAIL}",
        )
        for role, name in STAFF_NAMES.items()
    }
    as_ = {role: Actor(user=user) for role, user in users.items()}

    # A full ceremony (four seats: three and one) with a waiting list; the first checked in with one of two companions.
    full = make_ceremony(
        title_kk=LONG_TITLE_KK,
        title_ru=LONG_TITLE_RU,
        venue=LONG_VENUE,
        address=LONG_ADDRESS,
        capacity=4,
        waitlist=True,
        description_kk="Салтанатты жиналысқа ардагерлер, тыл еңбеккерлері және олардың отбасылары шақырылады. " * 3,
    )
    first = registrations.register(
        db.session,
        system,
        full.id,
        registration_data(
            full_name=LONG_PERSON,
            email=LONG_EMAIL,
            companions="2",
            needs_wheelchair="y",
            needs_hearing="y",
            needs_note="Кіреберістің жанынан орын керек, арбамен келеміз, көмекші бірге болады.",
        ),
    )
    registrations.register(  # the last free seat
        db.session,
        system,
        full.id,
        registration_data(full_name="Сәрсенбаев-Жұмабаев Бауыржан-Нұрсұлтан Әбілқайырұлы", phone="+7 701 000 00 02"),
    )
    waiting = registrations.register(
        db.session,
        system,
        full.id,
        registration_data(
            full_name="Әбдірахманова-Ысқақова Назерке-Айзере Төлегенқызы",
            phone="+7 701 000 00 03",
            email="waiting." + LONG_EMAIL,
        ),
    )
    assert waiting.status == "waitlisted"
    checkin.check_in(db.session, system, db.session.get(Registration, first.id), 1)
    second_day = make_ceremony(title_kk=LONG_TITLE_KK + " (екінші күн)", venue=LONG_VENUE, address=LONG_ADDRESS)
    cancelled = registrations.register(
        db.session,
        system,
        second_day.id,
        registration_data(full_name=LONG_PERSON, phone="+7 701 000 00 04", email="cancelled." + LONG_EMAIL),
    )
    registrations.cancel_registration(db.session, system, db.session.get(Registration, cancelled.id))
    draft_ceremony = make_ceremony(title_kk=LONG_TITLE_KK + " (жоба)", venue=LONG_VENUE, status="draft")

    # Nominations: a draft, one recommended (the commission's queue), one submitted
    # (the reviewer's), and approved ones with their history, certificates attached
    # to the ceremony, one revoked, one revoked and reissued.
    def nominate(**extra):
        data = nominee_data(**{**NOMINEE, **extra})
        return nominations.create_nomination(
            db.session,
            as_["nominator"],
            {
                "nominee": data,
                "medal": medal.code,
                "grounds": "1942–1945 жылдары Жезқазған мыс кенішінде тыл еңбеккері болып еңбек етті. " * 4,
            },
        )

    def advance(nomination, *steps):
        for who, action, extra in steps:
            nomination = transitions.transition(
                db.session, as_[who], nomination, action, confirm_duplicate=True, **extra
            )
        return nomination

    submit = ("nominator", "submit", {})
    recommend = ("reviewer", "recommend", {})
    approve = ("commission", "approve", {**DECREE, "comment": "Комиссия отырысының хаттамасы № 3"})
    draft = nominate()
    submitted = advance(nominate(birth_date="1930-02-03"), submit)
    recommended = advance(nominate(birth_date="1931-03-04"), submit, recommend)
    returned = advance(
        nominate(birth_date="1932-04-05"),
        submit,
        ("reviewer", "return", {"comment": "Мұрағат анықтамасының көшірмесін қосыңыз, ол жоқ. " * 3}),
    )
    for nomination in (draft, returned):  # a scanned archive certificate with a long file name
        nominations.add_document(db.session, as_["nominator"], nomination, LONG_FILENAME, b"%PDF-1.4\n%%EOF\n")
    approved = [advance(nominate(birth_date=f"193{3 + i}-05-0{i + 1}"), submit, recommend, approve) for i in range(3)]
    serials = [db.session.scalar(select(Award.serial).where(Award.nomination_id == n.id)) for n in approved]

    def award(serial: str) -> Award:
        return db.session.scalars(select(Award).where(Award.serial == serial)).one()

    awards_service.attach_to_ceremony(db.session, as_["clerk"], full, serials)
    revoked = award(serials[1])
    revocation.revoke(
        db.session, as_["admin"], revoked, "Тегі қате жазылған: «Құдайбергенова» емес, «Құдайбергенова-Бекмұхамбетова»."
    )
    reissued = revocation.revoke(db.session, as_["admin"], award(serials[2]), "Аты қате.", reissue=True)
    # The outbox with a message that failed (a long address and a long server answer) and one that
    # waits for its next attempt, as the sender leaves them.
    messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    failed, waits = messages[0], messages[-1]
    failed.status, failed.attempts = "failed", 8
    failed.last_error = f"SMTPRecipientsRefused: 550 5.1.1 <{failed.to_address}>: Recipient address rejected"
    waits.status, waits.attempts, waits.next_attempt_at = "queued", 2, utcnow() + timedelta(hours=1)
    waits.created_at = utcnow() - timedelta(hours=2)  # the backlog's warning, with its advice, shows
    waits.last_error = "SMTPServerDisconnected: Connection unexpectedly closed while reading the server's greeting"
    db.session.commit()
    db.session.expire_all()
    valid, old_reissued = award(serials[0]), award(serials[2])

    def _(endpoint, url, role, note="", status=200):
        return Page(endpoint, url, role, note, status)

    c = full.id
    pages = [
        # The public.
        _("ceremonies.index", "/", None),
        _("ceremonies.detail", f"/ceremonies/{c}", None, "full, with a waiting list"),
        _("ceremonies.detail", f"/ceremonies/{second_day.id}", None, "open"),
        _("ceremonies.manage", f"/r/{first.token}", None, "checked in, companions, needs"),
        _("ceremonies.manage", f"/r/{waiting.token}", None, "on the waiting list"),
        _("ceremonies.manage", f"/r/{cancelled.token}", None, "cancelled"),
        _("verify.verify", f"/v/{valid.verify_code}", None, "valid"),
        _("verify.verify", f"/v/{revoked.verify_code}", None, "revoked"),
        _("verify.verify", f"/v/{old_reissued.verify_code}", None, "revoked and reissued"),
        _("verify.verify", "/v/ABCDABCDABCDABCD", None, "not found", 404),
        _("ceremonies.detail", "/ceremonies/987654", None, "the error page: no such ceremony", 404),
        _("accounts.login", "/staff/login", None),
        _("ceremonies.lost_link", "/r/lost-link", None),
        _("ceremonies.lost_link", "/r/lost-link?sent=1", None, "the links are on their way"),
        _("verify.verify_form", "/verify", None, "the box for a certificate's code"),
        # The administrator sees every staff page.
        _("accounts.home", "/staff/", "admin"),
        _("accounts.users", "/staff/users", "admin"),
        _("accounts.create_user", "/staff/users/new", "admin"),
        _("accounts.edit_user", f"/staff/users/{users['commission'].id}", "admin"),
        _("districts.index", "/staff/districts/", "admin"),
        _("mail.index", "/staff/mail/", "admin"),
        _("medals.index", "/staff/medals/", "admin"),
        _("medals.show", f"/staff/medals/{medal.code}", "admin"),
        _("medals.create", "/staff/medals/new", "admin"),
        _("staff_ceremonies.index", "/staff/ceremonies/", "admin"),
        _("staff_ceremonies.create", "/staff/ceremonies/new", "admin"),
        _("staff_ceremonies.show", f"/staff/ceremonies/{c}", "admin", "full, waiting list, checked in"),
        _("staff_ceremonies.show", f"/staff/ceremonies/{draft_ceremony.id}", "admin", "draft"),
        _("staff_ceremonies.edit", f"/staff/ceremonies/{c}/edit", "admin"),
        _("staff_ceremonies.ceremony_history", f"/staff/ceremonies/{c}/history", "admin"),
        _(
            "staff_ceremonies.registration_history",
            f"/staff/ceremonies/{c}/registrations/{first.id}/history",
            "admin",
        ),
        _("staff_ceremonies.register_on_behalf", f"/staff/ceremonies/{c}/registrations/new", "admin"),
        _("checkin.page", f"/staff/ceremonies/{c}/checkin/", "admin"),
        _("checkin.page", f"/staff/ceremonies/{c}/checkin/?q=Сәрсенбаев", "admin", "door search with results"),
        _("nominations.index", "/staff/nominations/", "admin"),
        _("nominations.queue", "/staff/nominations/queue", "admin"),
        _("nominations.show", f"/staff/nominations/{approved[1].id}", "admin", "approved, history, revoked"),
        _("nominations.show", f"/staff/nominations/{returned.id}", "admin", "returned with a comment"),
        _("awards.index", "/staff/awards/", "admin"),
        _("awards.index", f"/staff/awards/?ceremony={c}", "admin", "a ceremony's certificates"),
        _("awards.show", f"/staff/awards/{valid.serial}", "admin", "valid"),
        _("awards.show", f"/staff/awards/{revoked.serial}", "admin", "revoked"),
        _("awards.show", f"/staff/awards/{reissued.serial}", "admin", "a reissue"),
        # Pages as the roles that work on them see them.
        _("accounts.home", "/staff/", "organiser"),
        _("staff_ceremonies.show", f"/staff/ceremonies/{c}", "organiser"),
        _("checkin.page", f"/staff/ceremonies/{c}/checkin/?q=Қоңырбаева", "clerk", "door search with results"),
        _("awards.index", f"/staff/awards/?ceremony={c}", "clerk"),
        _("accounts.home", "/staff/", "nominator"),
        _("nominations.create", "/staff/nominations/new", "nominator"),
        _("nominations.edit", f"/staff/nominations/{draft.id}/edit", "nominator"),
        _("nominations.index", "/staff/nominations/", "nominator"),
        _("nominations.show", f"/staff/nominations/{draft.id}", "nominator", "draft"),
        _("nomination_io.import_nominations", "/staff/nominations/io/import", "nominator"),
        _("nominations.queue", "/staff/nominations/queue", "reviewer", f"submitted #{submitted.id}"),
        _("nominations.queue", "/staff/nominations/queue", "commission", f"recommended #{recommended.id}"),
        _("nominations.queue", "/staff/nominations/queue?district=zhezkazgan", "commission", "one district, its quota"),
        _("nominations.queue", "/staff/nominations/queue", "clerk", "approved, with the clerk's links"),
        _("nominations.show", f"/staff/nominations/{recommended.id}", "commission", "recommended"),
        _("awards.index", "/staff/awards/", "commission"),
    ]
    return pages, users


def html_endpoints(app) -> set[str]:
    """Every GET route's endpoint, less the excluded ones."""
    endpoints = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in EXCLUDED or rule.endpoint.split(".")[0] in EXCLUDED_BLUEPRINTS:
            continue
        endpoints.add(rule.endpoint)
    return endpoints


def test_every_get_route_is_checked_or_excluded(app, showcase):
    pages, _users = showcase
    visited = {p.endpoint for p in pages}
    all_get = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert set(EXCLUDED) <= all_get, f"excluded but no longer routes: {set(EXCLUDED) - all_get}"
    assert visited <= all_get, f"visited but not routes: {visited - all_get}"
    missing = html_endpoints(app) - visited
    assert not missing, f"GET routes neither checked at phone width nor excluded with a reason: {sorted(missing)}"
    assert not visited & set(EXCLUDED)


# The elements that reach past the right edge of the viewport, or past the right
# edge of a box that scrolls sideways (a table wrapper with overflow: auto): out of
# sight to the side, as the door's "Admit" button was, is the fault.  Inside a
# clipping box (overflow: hidden, as a visually hidden table heading for screen
# readers) nothing is drawn, so it does not count.
MEASURE = """() => {
  const width = window.innerWidth;
  const over = [];
  const edge = (el) => {  // the right edge el must keep to, or null when a clipping box hides it
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'hidden' || s.overflowX === 'clip') {
        return a.getBoundingClientRect().right <= width + 0.5 ? null : width;
      }
      if (s.overflowX === 'auto' || s.overflowX === 'scroll') {
        return Math.min(width, a.getBoundingClientRect().right);
      }
    }
    return width;
  };
  let widest = width;
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;          // visually hidden
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const limit = edge(el);
    if (limit === null || box.right <= limit + 0.5) continue;
    widest = Math.max(widest, Math.round(box.right));
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    over.push(name + ' right=' + Math.round(box.right) + ' (edge ' + Math.round(limit) + ') "' +
      (el.innerText || el.value || '').slice(0, 40) + '"');
  }
  const lang = document.documentElement.lang;
  return {scroll: document.documentElement.scrollWidth, inner: width, widest, lang, over};
}"""


def login(page, user, kk):
    page.goto("/staff/login")
    page.get_by_label(visible_label(kk["E-mail"])).fill(user.email)
    page.get_by_label(visible_label(kk["Password"])).fill(PASSWORD)
    page.get_by_role("button", name=kk["Log in"], exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/staff/login"))


def measure_all(
    new_page, live_server, pages, users, viewport, screenshots, language="kk"
) -> tuple[list[str], list[str]]:
    """Visit the pages at this viewport in this language; (a line a page, the problems)."""
    kk = kazakh(live_server.app, "E-mail", "Password", "Log in")
    by_role: dict[str | None, list[Page]] = {}
    for p in pages:
        by_role.setdefault(p.role, []).append(p)
    lines, problems = [], []
    for role, role_pages in by_role.items():
        page, watch = new_page(viewport=viewport, locale="kk-KZ")
        if role is not None:
            login(page, users[role], kk)
        if language != "kk":  # as a person would: the language switch in the header
            page.goto("/")
            page.get_by_role("button", name=LANGUAGE_NAMES[language], exact=True).click()
            expect(page.locator("html")).to_have_attribute("lang", language)
        for p in role_pages:
            response = page.goto(p.url)
            where = f"{p.url} ({p.endpoint}, {role or 'public'}{', ' + p.note if p.note else ''})"
            content_type = response.headers.get("content-type", "")
            if response.status != p.status or not content_type.startswith("text/html"):
                problems.append(f"{where}: HTTP {response.status} {content_type}")
                continue
            m = page.evaluate(MEASURE)
            lines.append(f"{m['scroll']:5d}px (widest element {m['widest']:4d}px)  {where}")
            if m["lang"] != language:
                problems.append(f"{where}: the page is in {m['lang']!r}, not {language!r}")
            if m["scroll"] > m["inner"] or m["over"]:
                shot = screenshots / f"award-e2e-too-wide-{language}-{viewport['width']}-{len(lines):02d}.png"
                page.screenshot(path=str(shot), full_page=True)
                problems.append(
                    f"{where}: scrollWidth {m['scroll']} > {m['inner']}; past the edge: {m['over'][:5]}; see {shot}"
                )
        watch.check()
    return lines, problems


def report(screenshots, name: str, lines: list[str]) -> None:
    """The widths found, one line a page, beside the screenshots (for a person reading a CI run)."""
    (screenshots / f"award-e2e-widths-{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_every_page_fits_the_screen_in_kazakh(live_server, new_page, showcase, viewport, screenshots):
    pages, users = showcase
    lines, problems = measure_all(new_page, live_server, pages, users, viewport, screenshots)
    report(screenshots, f"kk-{viewport['width']}", lines)
    assert len(lines) + sum(": HTTP " in p for p in problems) == len(pages)
    assert not problems, "\n".join(problems)


# In Russian and English: the public pages and the staff pages named in the issue
# (the organiser's ceremony, the door, the nomination and certificate lists, the quotas).
OTHER_LANGUAGE_ENDPOINTS = {
    "staff_ceremonies.show",
    "checkin.page",
    "nominations.index",
    "awards.index",
    "medals.show",
    "nominations.show",
    "awards.show",
}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_public_and_busiest_pages_fit_a_phone_in_russian_and_english(
    live_server, new_page, showcase, language, screenshots
):
    pages, users = showcase
    chosen = [p for p in pages if p.role is None or p.endpoint in OTHER_LANGUAGE_ENDPOINTS]
    lines, problems = measure_all(new_page, live_server, chosen, users, PHONE, screenshots, language)
    report(screenshots, f"{language}-360", lines)
    assert len(lines) + sum(": HTTP " in p for p in problems) == len(chosen)
    assert not problems, "\n".join(problems)

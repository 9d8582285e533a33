"""The eTwinning member's pages (SPEC §2.12, seed 003 «Β. Δημιουργία έργου»): profile with
its organisations, people and contacts, projects and the «Create a project» wizard, the
partner's invitations, one project, and the pupils' way into their project.

Every form posts to the API (``/api/v1/realms/esep/…``) form-encoded with its CSRF token
and ``form_page``, as the other pages do: a refused post comes back as the page it came
from with the values and the problem next to each field, and a successful one goes back
there (or to the next step) with a 303. Two posts land on pages instead, each for a
reason the API cannot serve: a pupil's new password is shown once on the page that
made it (a redirect would have to carry it in a URL), and an image comes as a
``multipart/form-data`` file, which the API's JSON and form bodies cannot carry.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.domain.esep import (
    IMAGE_MAX_BYTES,
    NSO_ROLE,
    ORGANISATION_KINDS,
    PUPIL_ROLE,
    Member,
    ProjectStatus,
    Viewer,
)
from chalicelib.errors import FlowError, NotFound, Unauthorized
from chalicelib.flows.esep.rules import ETWINNING_COUNTRIES
from chalicelib.flows.sessions import Principal
from chalicelib.web import csrf
from chalicelib.web.admin.access import sign_in_page
from chalicelib.web.endpoints import Ctx, FormState, page
from chalicelib.web.esep.names import country_choices, country_name, language_choices, language_name
from chalicelib.web.esep.pages import NAVIGATION
from chalicelib.web.esep.schemas import PupilInput
from chalicelib.web.html import redirect, render_page
from chalicelib.web.inputs import MULTIPART, UploadedFile, parse_body, raw_fields, read_multipart
from chalicelib.web.pages import form_page
from chalicelib.web.problems import STATUS_BY_CODE, InputProblem
from chalicelib.web.sessions import authenticate

bp = Blueprint(__name__)


class _Member:
    """The signed-in member a page is for: their record, read once per request, and its
    :meth:`EsepNetwork.member_view`."""

    def __init__(self, principal: Principal, record: Member, view: dict[str, Any]) -> None:
        self.principal = principal
        self.record = record
        self.view = view

    @property
    def account_id(self) -> str:
        return self.principal.account_id


def _esep(ctx: Ctx) -> None:
    if ctx.realm.identity_source != "eulogin":
        raise NotFound("This realm has no eTwinning pages.")


def _signed_in(ctx: Ctx) -> Principal | Response:
    _esep(ctx)
    try:
        return authenticate(ctx)
    except Unauthorized:
        return redirect(sign_in_page(ctx.realm))


def _member(ctx: Ctx) -> _Member | Response:
    """The signed-in member, or where to go instead: sign-in, or a pupil's own project."""
    principal = _signed_in(ctx)
    if isinstance(principal, Response):
        return principal
    network = ctx.flows.esep_network
    member = network.esep.get_member(principal.account_id)
    if member is None:
        if PUPIL_ROLE in principal.roles:
            return redirect(f"/realms/{ctx.realm.id}/pupil")
        raise NotFound("There is no eTwinning profile for this account.")
    return _Member(principal, member, network.member_view(member))


def member_or_none(ctx: Ctx, principal: Principal) -> _Member | None:
    """The signed-in person as a member, if they are one (not a pupil)."""
    network = ctx.flows.esep_network
    stored = network.esep.get_member(principal.account_id)
    return _Member(principal, stored, network.member_view(stored)) if stored is not None else None


def esep_page(ctx: Ctx, template: str, current: str, member: _Member | None, **context: Any) -> Response:
    """``form_page`` with what every esep page shows: the navigation (the NSO's desk for
    its administrators), names of countries and languages in the page's language."""
    roles = member.principal.roles if member is not None else ()
    return form_page(
        ctx,
        template,
        current=current,
        navigation=NAVIGATION if member is not None else (),
        is_nso=NSO_ROLE in roles,
        me=member.view if member is not None else None,
        signed_in=member is not None,
        country_name=country_name,
        country_choices=country_choices,
        language_name=language_name,
        countries=ETWINNING_COUNTRIES,
        **context,
    )


# --- profile -------------------------------------------------------------------------------


@page(bp, "/realms/{realm}/profile")
def profile(ctx: Ctx) -> Response:
    """My profile: why I am (not) validated and what to do, the Organisations tab (each
    card: leave, «Request eTwinning validation»; add another), the profile fields."""
    member = _member(ctx)
    if isinstance(member, Response):
        return member
    network = ctx.flows.esep_network
    standing = network.standing(member.record)
    query = (ctx.query("q") or "").strip()[:100]
    found = network.search_organisations(text=query, country=None) if query else []
    mine = {o["organisation_id"] for o in standing["organisations"]}
    return esep_page(
        ctx,
        "esep_profile.html",
        "profile",
        member,
        standing=standing,
        query=query,
        found=[o for o in found if o["organisation_id"] not in mine],
        kinds=ORGANISATION_KINDS,
    )


# --- people and contacts ---------------------------------------------------------------------


@page(bp, "/realms/{realm}/people")
def people(ctx: Ctx) -> Response:
    """People search (seed: «αναζητήστε έναν συνεργάτη … και προσθέστε τον στις επαφές σας»)."""
    member = _member(ctx)
    if isinstance(member, Response):
        return member
    text = (ctx.query("q") or "").strip()[:100]
    country = (ctx.query("country") or "").strip()[:8]
    subject = (ctx.query("subject") or "").strip()[:80]
    searched = bool(text or country or subject)
    found: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    if searched:
        try:
            found = ctx.flows.esep_network.people(text=text, country=country or None, subject=subject or None)
        except FlowError as error:  # a country code typed into the address
            errors = error.errors
    found = [person for person in found if person["account_id"] != member.account_id]
    return esep_page(
        ctx,
        "esep_people.html",
        "people",
        member,
        search={"q": text, "country": country, "subject": subject},
        searched=searched,
        found=found,
        search_errors=errors,
        contacts=set(member.view["contacts"]),
    )


@page(bp, "/realms/{realm}/contacts")
def contacts(ctx: Ctx) -> Response:
    member = _member(ctx)
    if isinstance(member, Response):
        return member
    people = ctx.flows.esep_network.people_named(list(member.view["contacts"]))
    return esep_page(ctx, "esep_contacts.html", "contacts", member, people=people)


# --- projects --------------------------------------------------------------------------------

STATUS_ORDER = tuple(str(status) for status in ProjectStatus)


@page(bp, "/realms/{realm}/projects")
def projects(ctx: Ctx) -> Response:
    """My projects, grouped by status (drafts first, as the list of statuses goes)."""
    member = _member(ctx)
    if isinstance(member, Response):
        return member
    mine = ctx.flows.esep_projects.mine(member.account_id)
    groups = [(status, [p for p in mine if p["status"] == status]) for status in STATUS_ORDER]
    return esep_page(ctx, "esep_projects.html", "projects", member, groups=[g for g in groups if g[1]])


@page(bp, "/realms/{realm}/projects/new")
def new_project(ctx: Ctx) -> Response:
    """The «Create a project» wizard: school (asked only when the teacher has more than
    one, as the seed warns), partner from the contacts, description; the description
    posts to the API, which answers with the preview (the project's page).

    The first two steps are GET forms: choosing is not yet changing anything, and the
    address keeps the choices, so «back» and a refused description keep them too.
    """
    member = _member(ctx)
    if isinstance(member, Response):
        return member
    organisations = member.view["organisations"]
    draft_id = ctx.query("draft") or ""
    prefill: dict[str, str] = {}
    if draft_id:  # «change the description» of a draft: its school and partner stay
        draft = ctx.flows.esep_projects.view(draft_id, Viewer(member.account_id, member.principal.roles))
        if draft["owner_id"] != member.account_id or draft["status"] != str(ProjectStatus.DRAFT):
            raise NotFound("No such draft of yours.")
        prefill = _prefill(draft)
        return _wizard(ctx, member, "description", draft["organisation_id"], draft["partner_id"], draft_id, prefill)
    chosen_school = ctx.query("organisation") or ""
    if len(organisations) == 1 and not chosen_school:
        chosen_school = organisations[0]["organisation_id"]
    return _wizard(ctx, member, "", chosen_school, ctx.query("partner") or "", "", prefill)


def _wizard(
    ctx: Ctx,
    member: _Member,
    step: str,
    chosen_school: str,
    chosen_partner: str,
    draft_id: str,
    prefill: dict[str, str],
) -> Response:
    organisations = member.view["organisations"]
    school = next((o for o in organisations if o["organisation_id"] == chosen_school), None)
    people = ctx.flows.esep_network.people_named(list(member.view["contacts"]))
    partner = next((p for p in people if p["account_id"] == chosen_partner), None)
    if draft_id and partner is None:  # a partner since removed from the contacts
        partner = next(iter(ctx.flows.esep_network.people_named([chosen_partner])), None)
    if school is None:
        step = "school"
    elif partner is None:
        step = "partner"
    else:
        step = "description"
    return esep_page(
        ctx,
        "esep_project_new.html",
        "projects",
        member,
        step=step,
        steps=("school", "partner", "description", "preview"),
        organisations=organisations,
        school=school,
        people=people,
        partner=partner,
        languages=language_choices,
        draft_id=draft_id,
        prefill=prefill,
        my_rules=ctx.flows.esep_network.standing(member.record)["rules"],
    )


def _prefill(draft: dict[str, Any]) -> dict[str, str]:
    """A draft's description as the wizard's fields (lists as one comma-separated line)."""
    pupils = draft["pupils"]
    return {
        **{name: str(draft[name]) for name in ("title", "description", "language", "goals", "process", "outcomes")},
        "pupils.count": str(pupils["count"]),
        "pupils.age_min": str(pupils["age_min"]),
        "pupils.age_max": str(pupils["age_max"]),
        "subjects": ", ".join(draft["subjects"]),
        "vocational_subjects": ", ".join(draft["vocational_subjects"]),
    }


@page(bp, "/realms/{realm}/invitations")
def invitations(ctx: Ctx) -> Response:
    """The partner's invitations: accept or decline (seed: «Ο/Η συνεργάτης σας θα πρέπει
    να αποδεχτεί την πρόσκληση»)."""
    member = _member(ctx)
    if isinstance(member, Response):
        return member
    waiting = ctx.flows.esep_projects.invitations(member.account_id)
    owners = {p["account_id"]: p for p in ctx.flows.esep_network.people_named([w["owner_id"] for w in waiting])}
    return esep_page(ctx, "esep_invitations.html", "invitations", member, waiting=waiting, owners=owners)


def _viewer(ctx: Ctx, principal: Principal) -> Viewer:
    nso_country = None
    if NSO_ROLE in principal.roles:
        nso_country = ctx.flows.esep_validation.desk(ctx.realm, principal.account_id, principal.roles).country
    return Viewer(principal.account_id, principal.roles, nso_country)


@page(bp, "/realms/{realm}/projects/{project_id}")
def project(ctx: Ctx, project_id: str) -> Response:
    """One project: a draft's preview (image, «Submit»), the partner's answer, the NSO's
    decision, and once active its members («add», each failed rule named) and pupils."""
    principal = _signed_in(ctx)
    if isinstance(principal, Response):
        return principal
    network, projects_flow = ctx.flows.esep_network, ctx.flows.esep_projects
    viewer = _viewer(ctx, principal)
    shown = projects_flow.view(project_id, viewer)
    member = member_or_none(ctx, principal)
    people_ids = list(dict.fromkeys([shown["owner_id"], shown["partner_id"], *shown["members"]]))
    people = {p["account_id"]: p for p in network.people_named(people_ids)}
    candidates: list[dict[str, Any]] = []
    if member is not None:
        candidates = [p for p in network.people_named(list(member.view["contacts"])) if p["account_id"] not in people]
    school = network.esep.get_organisation(shown["organisation_id"])
    refused = _refused_candidate(ctx, network)
    return esep_page(
        ctx,
        "esep_project.html",
        "projects",
        member,
        project=shown,
        people=people,
        candidates=candidates,
        school=school,
        refused=refused,
        is_owner=principal.account_id == shown["owner_id"],
        is_partner=principal.account_id == shown["partner_id"],
        is_member=principal.account_id in shown["members"],
        is_pupil=PUPIL_ROLE in principal.roles,
        may_decide=viewer.nso_country == shown["country"],
        language=language_name,
        image_max_mib=IMAGE_MAX_BYTES // (1024 * 1024),
    )


def _refused_candidate(ctx: Ctx, network: Any) -> dict[str, Any] | None:
    """The teacher a refused «add» named, so the page can say who fails which rule and
    that their NSO is who can change it."""
    state = ctx.form_state
    if state is None or state.code != "not_eligible":
        return None
    found = network.people_named([state.values.get("account_id", "")])
    return found[0] if found else None


@page(bp, "/realms/{realm}/projects/{project_id}/image")
def project_image(ctx: Ctx, project_id: str) -> Response:
    """The project's image, to those who may see the project (the page's ``<img>``)."""
    principal = _signed_in(ctx)
    if isinstance(principal, Response):
        return principal
    found = ctx.flows.esep_projects.image(project_id, _viewer(ctx, principal))
    if found is None:
        raise NotFound("This project has no image.")
    data, kind = found
    headers: dict[str, str | list[str]] = {
        "Content-Type": kind,
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=data, status_code=200, headers=headers)


@page(bp, "/realms/{realm}/projects/{project_id}/image", methods=["POST"], form=True, content_types=[MULTIPART])
def upload_image(ctx: Ctx, project_id: str) -> Response:
    """The preview's «image (optional)» form: a file from the person's computer."""
    principal = _signed_in(ctx)
    if isinstance(principal, Response):
        return principal
    back = f"/realms/{ctx.realm.id}/projects/{project_id}"
    try:
        fields = read_multipart(ctx.request, max_bytes=IMAGE_MAX_BYTES + 64 * 1024)
        csrf.check_token(ctx.request, fields.get(csrf.FIELD))  # a multipart body: the page reads it
        image = fields.get("image")
        if not isinstance(image, UploadedFile) or not image.data:
            raise InputProblem("invalid_input", None, errors={"image": ["choose a PNG or JPEG file"]})
        ctx.flows.esep_projects.attach_image(project_id, principal.account_id, image.content_type, image.data)
    except (FlowError, InputProblem) as error:
        ctx.form_state = FormState(
            values={}, code=error.code, status=STATUS_BY_CODE.get(error.code, 400), errors=error.errors, detail=None
        )
        view = _PageView(ctx.request, back)
        return project(Ctx(request=view, realm_config=ctx.realm, form_state=ctx.form_state), project_id)
    return redirect(back)


class _PageView:
    """A post's request seen as the GET of the page to show again."""

    def __init__(self, request: Any, path: str) -> None:
        self._request = request
        self.query_params: dict[str, str] = {}
        self.method = "GET"
        self.context = {**(request.context or {}), "path": path}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


@page(bp, "/realms/{realm}/projects/{project_id}/pupils", methods=["POST"], form=True)
def create_pupil(ctx: Ctx, project_id: str) -> Response:
    """«Create a login» for a pupil: the card with the password, shown this once.

    The password is answered in this page (never stored readable, never in a URL or a
    log); the page is ``no-store`` so the browser does not keep it either.
    """
    principal = _signed_in(ctx)
    if isinstance(principal, Response):
        return principal
    back = f"/realms/{ctx.realm.id}/projects/{project_id}"
    try:
        body = parse_body(ctx.request, PupilInput)
        username, password = ctx.flows.esep_projects.create_pupil(
            ctx.realm, project_id, principal.account_id, body.display_name
        )
    except (FlowError, InputProblem) as error:
        kept = {"display_name": str(raw_fields(ctx.request).get("display_name") or "")}
        state = FormState(values=kept, code=error.code, status=STATUS_BY_CODE.get(error.code, 400), errors=error.errors)
        return project(Ctx(request=_PageView(ctx.request, back), realm_config=ctx.realm, form_state=state), project_id)
    shown = ctx.flows.esep_projects.view(project_id, _viewer(ctx, principal))
    return render_page(
        "esep_pupil_card.html",
        request=ctx.request,
        realm=ctx.realm,
        home_url=f"/realms/{ctx.realm.id}",
        project=shown,
        display_name=" ".join(body.display_name.split()),
        username=username,
        password=password,
        sign_in_url=ctx.flows.links.page(ctx.realm.id, "login"),
        back=back,
    )


@page(bp, "/realms/{realm}/pupil")
def pupil(ctx: Ctx) -> Response:
    """A signed-in pupil's way to their project (the pupils' sign-in page links here);
    anyone else is sent to sign in as a pupil."""
    principal = _signed_in(ctx)
    if isinstance(principal, Response) or PUPIL_ROLE not in principal.roles:
        return redirect(f"/realms/{ctx.realm.id}/login")
    project_id = ctx.flows.esep_projects.pupil_project(ctx.realm, principal.account_id)
    if not project_id:
        raise NotFound("This pupil has no project.")
    return redirect(f"/realms/{ctx.realm.id}/projects/{project_id}")

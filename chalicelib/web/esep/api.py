"""Realm esep's API (SPEC §2.7): registration and sign-in from EU Login flows,
organisations, profile, people, contacts, national validation, projects and pupils.

Every route checks the realm (only ``esep`` has these) and who is calling in code: the
test client and ``chalice local`` skip authorizers, and so does nothing here rely on one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict

from chalicelib.domain.esep import NSO_ROLE, Organisation, Project, Viewer
from chalicelib.domain.secrets import fingerprint
from chalicelib.errors import FlowUsed, NotFound
from chalicelib.flows.devices import COOKIE as DEVICE_COOKIE
from chalicelib.flows.sessions import Principal
from chalicelib.web.admin.access import require_role
from chalicelib.web.binding import browser_binding
from chalicelib.web.endpoints import FORM_PAGE_FIELD, Ctx, Reply, api, count
from chalicelib.web.esep.schemas import (
    ContactInput,
    DecisionInput,
    DecisionOutput,
    EmptyInput,
    EsepRegistrationInput,
    EsepRegistrationOutput,
    InvitationInput,
    JoinInput,
    MemberAddInput,
    MemberOutput,
    OrganisationInput,
    OrganisationList,
    OrganisationOutput,
    PendingOutput,
    PeopleList,
    ProfileInput,
    ProjectDecisionInput,
    ProjectInput,
    ProjectOutput,
    PupilInput,
    PupilOutput,
)
from chalicelib.web.inputs import is_form, raw_fields
from chalicelib.web.schemas import LoginInput, TokenOutput
from chalicelib.web.sessions import authenticate, token_reply

bp = Blueprint(__name__)


# The eTwinning flows load with the first eTwinning request, not with every cold start.
if TYPE_CHECKING:
    from chalicelib.flows.esep.projects import ProjectDraft
    from chalicelib.flows.esep.validation import NsoDesk


def organisation_view(organisation: Organisation) -> dict[str, Any]:
    from chalicelib.flows.esep.network import organisation_view as view

    return view(organisation)


def project_view(project: Project) -> dict[str, Any]:
    from chalicelib.flows.esep.projects import project_view as view

    return view(project)


BASE = "/api/v1/realms/{realm}"
TAGS = ["esep"]
IMAGE_TYPES = ("image/png", "image/jpeg")


def _esep(ctx: Ctx) -> None:
    if ctx.realm.identity_source != "eulogin":
        raise NotFound("This realm has no eTwinning features.")


def _caller(ctx: Ctx) -> Principal:
    _esep(ctx)
    return authenticate(ctx)


def _member(ctx: Ctx) -> Principal:
    """A signed-in eTwinning member (not a pupil)."""
    principal = _caller(ctx)
    ctx.flows.esep_network.member(principal.account_id)
    return principal


def _desk(ctx: Ctx) -> NsoDesk:
    """The caller as its country's NSO; the role is checked by the consoles' one gate
    (``web/admin/access.py``), the country by the desk itself."""
    _esep(ctx)
    principal = require_role(ctx, NSO_ROLE)
    return ctx.flows.esep_validation.desk(ctx.realm, principal.account_id, principal.roles)


def back(ctx: Ctx) -> str:
    """Where a browser goes after a form of the esep pages succeeded: back to the page
    the form came from (its ``form_page``, when it is a path of this realm's pages and
    never another site), else the profile. JSON clients never see it."""
    target = str(raw_fields(ctx.request).get(FORM_PAGE_FIELD) or "") if is_form(ctx.request.headers) else ""
    own = target.startswith(f"/realms/{ctx.realm.id}/") and "//" not in target and "\\" not in target
    if own and target.isprintable() and " " not in target:  # no header splitting in Location
        return target
    return f"/realms/{ctx.realm.id}/profile"


def page_of(ctx: Ctx, path: str) -> str:
    return f"/realms/{ctx.realm.id}/{path}"


def register_from_flow(ctx: Ctx) -> Reply:
    """``POST /registrations`` of an EU Login realm (the route is shared with GSIS realms)."""
    from chalicelib.flows.esep.registration import EsepRegistrationRequest

    body: EsepRegistrationInput = ctx.body
    request = EsepRegistrationRequest(**body.model_dump(), browser_binding=browser_binding(ctx))
    registered = ctx.flows.esep_registration.register(ctx.realm, request)
    count("EsepMemberRegistered")
    tokens = token_reply(ctx, registered.tokens, 201)
    assert isinstance(tokens.body, TokenOutput)
    tokens.body = EsepRegistrationOutput(
        account_id=registered.account_id,
        status=str(registered.status),
        migrated=registered.migrated,
        **tokens.body.model_dump(),
    )
    return tokens


@api(
    bp,
    f"{BASE}/organisations",
    summary="Search organisations by name and city (accent- and case-insensitive)",
    responses={200: OrganisationList},
    problems=["invalid_input", "not_found"],
    tags=TAGS,
    query={"q": "words of the name or city", "country": "ISO code"},
)
def search_organisations(ctx: Ctx) -> Reply:
    _esep(ctx)
    found = ctx.flows.esep_network.search_organisations(text=ctx.query("q") or "", country=ctx.query("country"))
    return Reply(body=OrganisationList.model_validate({"organisations": found}))


@api(
    bp,
    f"{BASE}/organisations",
    method="POST",
    summary="Register a new organisation (pending until its NSO validates it)",
    body=OrganisationInput,
    responses={201: OrganisationOutput},
    problems=["invalid_input", "unauthorized", "flow_not_found", "flow_expired", "flow_used"],
    tags=TAGS,
    auth=True,
)
def create_organisation(ctx: Ctx) -> Reply:
    _esep(ctx)
    body: OrganisationInput = ctx.body
    if body.flow:  # during registration: the person has a flow, not yet a token
        flow = ctx.flows.esep_registration.signin_flow(ctx.realm, body.flow, browser_binding(ctx))
        if flow.used_at is not None:
            raise FlowUsed()
        created_by = None
    else:
        created_by = _member(ctx).account_id

    def create_once() -> dict[str, Any]:
        organisation = ctx.flows.esep_network.create_organisation(
            name=body.name,
            city=body.city,
            country=body.country,
            kind=body.kind,
            etwinning=body.etwinning,
            created_by=created_by,
        )
        return organisation_view(organisation)

    # A retried submit (lost answer, double click) gets the first organisation, not a
    # second one. Who asks is part of the payload and of the key, so two people never
    # share an answer, nor collide on an Idempotency-Key they happened both to choose.
    caller = created_by or f"flow:{fingerprint(body.flow or '')}"
    key = f"{caller}:{ctx.idempotency_key}" if ctx.idempotency_key else None
    payload = {"realm": ctx.realm.id, "caller": caller, **body.model_dump()}
    created = ctx.services.idempotency.once("esep-organisation", payload, create_once, bp.lambda_context, key)
    # A browser registering one during sign-up goes back to the form, the new one found;
    # from the profile, to the profile's search with it, to join it.
    if body.flow:
        after = ctx.flows.links.page(ctx.realm.id, "register", flow=body.flow, q=created["name"])
    else:
        after = page_of(ctx, "profile") + "?" + urlencode({"q": created["name"]}) + "#add"
    return Reply(status=201, body=OrganisationOutput.model_validate(created), next_page=after)


@api(
    bp,
    f"{BASE}/me/etwinning",
    summary="The caller's eTwinning profile: role, status, organisations, contacts",
    responses={200: MemberOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def my_profile(ctx: Ctx) -> Reply:
    principal = _caller(ctx)
    network = ctx.flows.esep_network
    return Reply(body=MemberOutput.model_validate(network.member_view(network.member(principal.account_id))))


@api(
    bp,
    f"{BASE}/me",
    method="PATCH",
    summary="Change the optional profile fields",
    body=ProfileInput,
    responses={200: MemberOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
@api(
    bp,
    f"{BASE}/me/profile",
    method="POST",
    summary="Change the optional profile fields (the profile page's form: browsers cannot send PATCH)",
    body=ProfileInput,
    responses={200: MemberOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def update_profile(ctx: Ctx) -> Reply:
    principal = _caller(ctx)
    body: ProfileInput = ctx.body
    network = ctx.flows.esep_network
    member = network.update_profile(principal.account_id, body.model_dump(exclude_unset=True))
    return Reply(body=MemberOutput.model_validate(network.member_view(member)), next_page=back(ctx))


@api(
    bp,
    f"{BASE}/me/organisations",
    method="POST",
    summary="Join an organisation",
    body=JoinInput,
    responses={201: MemberOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def join(ctx: Ctx) -> Reply:
    principal = _caller(ctx)
    body: JoinInput = ctx.body
    network = ctx.flows.esep_network
    member = network.join(principal.account_id, body.organisation_id)
    return Reply(
        status=201, body=MemberOutput.model_validate(network.member_view(member)), next_page=page_of(ctx, "profile")
    )


@api(
    bp,
    f"{BASE}/me/organisations/{{organisation_id}}",
    method="DELETE",
    summary="Leave an organisation",
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def leave(ctx: Ctx, organisation_id: str) -> Reply:
    principal = _caller(ctx)
    ctx.flows.esep_network.leave(principal.account_id, organisation_id)
    return Reply(status=204)


@api(
    bp,
    f"{BASE}/me/organisations/{{organisation_id}}/leave",
    method="POST",
    summary="Leave an organisation (the profile page's form: browsers cannot send DELETE)",
    body=EmptyInput,
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def leave_by_form(ctx: Ctx, organisation_id: str) -> Reply:
    principal = _caller(ctx)
    ctx.flows.esep_network.leave(principal.account_id, organisation_id)
    return Reply(status=204, next_page=back(ctx))


@api(
    bp,
    f"{BASE}/me/organisations/{{organisation_id}}/validation-requests",
    method="POST",
    summary="Request eTwinning validation of one of the caller's organisations",
    body=EmptyInput,
    responses={202: OrganisationOutput},
    problems=["invalid_input", "unauthorized", "forbidden", "not_found"],
    tags=TAGS,
    auth=True,
)
def request_validation(ctx: Ctx, organisation_id: str) -> Reply:
    principal = _caller(ctx)
    organisation = ctx.flows.esep_network.request_etwinning_validation(principal.account_id, organisation_id)
    return Reply(
        status=202, body=OrganisationOutput.model_validate(organisation_view(organisation)), next_page=back(ctx)
    )


@api(
    bp,
    f"{BASE}/people",
    summary="Search people who allow it, by name, country and subject",
    responses={200: PeopleList},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
    query={"q": "words of the name", "country": "ISO code", "subject": "a subject taught"},
)
def people(ctx: Ctx) -> Reply:
    _member(ctx)
    found = ctx.flows.esep_network.people(
        text=ctx.query("q") or "", country=ctx.query("country"), subject=ctx.query("subject")
    )
    return Reply(body=PeopleList.model_validate({"people": found}))


@api(
    bp,
    f"{BASE}/me/contacts",
    method="POST",
    summary="Add someone to the caller's contacts",
    body=ContactInput,
    responses={201: MemberOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def add_contact(ctx: Ctx) -> Reply:
    principal = _caller(ctx)
    body: ContactInput = ctx.body
    network = ctx.flows.esep_network
    member = network.add_contact(principal.account_id, body.account_id)
    return Reply(status=201, body=MemberOutput.model_validate(network.member_view(member)), next_page=back(ctx))


@api(
    bp,
    f"{BASE}/me/contacts/{{contact_id}}",
    method="DELETE",
    summary="Remove someone from the caller's contacts",
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def remove_contact(ctx: Ctx, contact_id: str) -> Reply:
    principal = _caller(ctx)
    ctx.flows.esep_network.remove_contact(principal.account_id, contact_id)
    return Reply(status=204)


@api(
    bp,
    f"{BASE}/me/contacts/{{contact_id}}/remove",
    method="POST",
    summary="Remove someone from the caller's contacts (the contacts page's form: browsers cannot send DELETE)",
    body=EmptyInput,
    responses={204: None},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def remove_contact_by_form(ctx: Ctx, contact_id: str) -> Reply:
    principal = _caller(ctx)
    ctx.flows.esep_network.remove_contact(principal.account_id, contact_id)
    return Reply(status=204, next_page=back(ctx))


# --- national support organisations ------------------------------------------------------


@api(
    bp,
    f"{BASE}/admin/pending",
    summary="What waits for the caller's NSO: users, organisations, projects of its country",
    responses={200: PendingOutput},
    problems=["unauthorized", "forbidden", "not_found"],
    tags=TAGS,
    auth=True,
)
def pending(ctx: Ctx) -> Reply:
    return Reply(body=PendingOutput.model_validate(ctx.flows.esep_validation.pending(_desk(ctx))))


@api(
    bp,
    f"{BASE}/admin/users/{{account_id}}/validation",
    method="POST",
    summary="Validate or reject a user of the NSO's country (the user is told by mail)",
    body=DecisionInput,
    responses={200: DecisionOutput},
    problems=["invalid_input", "unauthorized", "forbidden", "not_found"],
    tags=TAGS,
    auth=True,
)
def decide_user(ctx: Ctx, account_id: str) -> Reply:
    desk = _desk(ctx)
    body: DecisionInput = ctx.body
    status = ctx.flows.esep_validation.decide_member(ctx.realm, desk, account_id, body.decision, body.reason)
    return Reply(body=DecisionOutput(status=status), next_page=page_of(ctx, "admin/desk"))


@api(
    bp,
    f"{BASE}/admin/organisations/{{organisation_id}}/validation",
    method="POST",
    summary="Validate or reject an organisation (or its eTwinning request)",
    body=DecisionInput,
    responses={200: DecisionOutput},
    problems=["invalid_input", "unauthorized", "forbidden", "not_found"],
    tags=TAGS,
    auth=True,
)
def decide_organisation(ctx: Ctx, organisation_id: str) -> Reply:
    desk = _desk(ctx)
    body: DecisionInput = ctx.body
    validation = ctx.flows.esep_validation
    status = validation.decide_organisation(ctx.realm, desk, organisation_id, body.decision, body.reason)
    return Reply(body=DecisionOutput(status=status), next_page=page_of(ctx, "admin/desk"))


@api(
    bp,
    f"{BASE}/admin/projects/{{project_id}}/approval",
    method="POST",
    summary="Approve or reject a project its partner accepted",
    body=ProjectDecisionInput,
    responses={200: DecisionOutput},
    problems=["invalid_input", "unauthorized", "forbidden", "not_found"],
    tags=TAGS,
    auth=True,
)
def approve_project(ctx: Ctx, project_id: str) -> Reply:
    desk = _desk(ctx)
    body: ProjectDecisionInput = ctx.body
    status = ctx.flows.esep_validation.decide_project(ctx.realm, desk, project_id, body.decision, body.reason)
    # From the desk, back to the desk; from the project's page, back to the project.
    came_from = back(ctx)
    desk_page = page_of(ctx, "admin/desk")
    return Reply(
        body=DecisionOutput(status=status), next_page=desk_page if came_from.startswith(desk_page) else came_from
    )


# --- projects ----------------------------------------------------------------------------


@api(
    bp,
    f"{BASE}/projects",
    method="POST",
    summary="Create a project draft from one of the caller's schools with a partner from the contacts",
    body=ProjectInput,
    responses={201: ProjectOutput},
    problems=["invalid_input", "not_eligible", "unauthorized", "forbidden", "not_found"],
    tags=TAGS,
    auth=True,
)
def create_project(ctx: Ctx) -> Reply:
    principal = _caller(ctx)
    body: ProjectInput = ctx.body
    draft = _draft(body)

    def create_once() -> dict[str, Any]:
        return project_view(ctx.flows.esep_projects.create(principal.account_id, draft))

    # One draft per retried request; the owner is part of the payload and of the key.
    key = f"{principal.account_id}:{ctx.idempotency_key}" if ctx.idempotency_key else None
    payload = {"realm": ctx.realm.id, "caller": principal.account_id, **body.model_dump()}
    created = ctx.services.idempotency.once("esep-project", payload, create_once, bp.lambda_context, key)
    after = page_of(ctx, f"projects/{created['project_id']}")  # the preview, with «Submit»
    return Reply(status=201, body=ProjectOutput.model_validate(created), next_page=after)


def _draft(body: ProjectInput) -> ProjectDraft:
    from chalicelib.flows.esep.projects import ProjectDraft

    fields = body.model_dump()
    pupils = fields.pop("pupils")
    return ProjectDraft(
        **fields, pupils_count=pupils["count"], pupils_age_min=pupils["age_min"], pupils_age_max=pupils["age_max"]
    )


@api(
    bp,
    f"{BASE}/projects/{{project_id}}",
    method="PUT",
    summary="Change a draft's description (its school and partner stay)",
    body=ProjectInput,
    responses={200: ProjectOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
@api(
    bp,
    f"{BASE}/projects/{{project_id}}/description",
    method="POST",
    summary="Change a draft's description (the wizard's form: browsers cannot send PUT)",
    body=ProjectInput,
    responses={200: ProjectOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def update_project(ctx: Ctx, project_id: str) -> Reply:
    principal = _caller(ctx)
    project = ctx.flows.esep_projects.update(project_id, principal.account_id, _draft(ctx.body))
    after = page_of(ctx, f"projects/{project.project_id}")  # back to the preview
    return Reply(body=ProjectOutput.model_validate(project_view(project)), next_page=after)


@api(
    bp,
    f"{BASE}/projects/{{project_id}}",
    summary="Preview a project (its people, and the NSO of its country)",
    responses={200: ProjectOutput},
    problems=["unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def preview_project(ctx: Ctx, project_id: str) -> Reply:
    principal = _caller(ctx)
    nso_country = None
    if NSO_ROLE in principal.roles:
        nso_country = ctx.flows.esep_validation.desk(ctx.realm, principal.account_id, principal.roles).country
    viewer = Viewer(principal.account_id, principal.roles, nso_country)
    return Reply(body=ProjectOutput.model_validate(ctx.flows.esep_projects.view(project_id, viewer)))


@api(
    bp,
    f"{BASE}/projects/{{project_id}}/submit",
    method="POST",
    summary="Submit a draft: the partner is invited by mail",
    body=EmptyInput,
    responses={200: ProjectOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def submit_project(ctx: Ctx, project_id: str) -> Reply:
    principal = _caller(ctx)
    project = ctx.flows.esep_projects.submit(project_id, principal.account_id)
    return Reply(body=ProjectOutput.model_validate(project_view(project)), next_page=back(ctx))


@api(
    bp,
    f"{BASE}/projects/{{project_id}}/invitation",
    method="POST",
    summary="The partner accepts or declines the invitation",
    body=InvitationInput,
    responses={200: ProjectOutput},
    problems=["invalid_input", "not_eligible", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def answer_invitation(ctx: Ctx, project_id: str) -> Reply:
    principal = _caller(ctx)
    body: InvitationInput = ctx.body
    project = ctx.flows.esep_projects.answer_invitation(project_id, principal.account_id, body.decision)
    return Reply(body=ProjectOutput.model_validate(project_view(project)), next_page=back(ctx))


class ImageUploadInput(BaseModel):
    """The image route's JSON form, which has no fields: the image itself comes as a PNG or
    JPEG body. ``@api`` lets ``raw_types`` through Chalice's content-type check only for
    routes that declare a body, so the route needs one (without it every upload got 415)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


@api(
    bp,
    f"{BASE}/projects/{{project_id}}/image",
    method="PUT",
    summary="Upload the project's image (PNG or JPEG body, at most 2 MB) while it is a draft",
    body=ImageUploadInput,
    responses={200: ProjectOutput},
    problems=["invalid_input", "payload_too_large", "unsupported_media_type", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
    raw_types=IMAGE_TYPES,
)
def upload_image(ctx: Ctx, project_id: str) -> Reply:
    """A JSON or form body reaches here too (no image in it): ``attach_image`` refuses its
    media type with 422."""
    principal = _caller(ctx)
    data = ctx.request.raw_body or b""
    content_type = ctx.request.headers.get("content-type") or ""
    projects = ctx.flows.esep_projects
    projects.attach_image(project_id, principal.account_id, content_type, data)
    viewer = Viewer(principal.account_id, principal.roles)
    return Reply(body=ProjectOutput.model_validate(projects.view(project_id, viewer)))


@api(
    bp,
    f"{BASE}/projects/{{project_id}}/members",
    method="POST",
    summary="Add a teacher to an active project (every eligibility rule is checked)",
    body=MemberAddInput,
    responses={201: ProjectOutput},
    problems=["not_eligible", "invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def add_member(ctx: Ctx, project_id: str) -> Reply:
    principal = _caller(ctx)
    body: MemberAddInput = ctx.body
    project = ctx.flows.esep_projects.add_member(project_id, principal.account_id, body.account_id)
    return Reply(status=201, body=ProjectOutput.model_validate(project_view(project)), next_page=back(ctx))


@api(
    bp,
    f"{BASE}/projects/{{project_id}}/pupils",
    method="POST",
    summary="Create a pupil login for an active project (the password is shown once)",
    body=PupilInput,
    responses={201: PupilOutput},
    problems=["invalid_input", "unauthorized", "not_found"],
    tags=TAGS,
    auth=True,
)
def create_pupil(ctx: Ctx, project_id: str) -> Reply:
    principal = _caller(ctx)
    body: PupilInput = ctx.body
    username, password = ctx.flows.esep_projects.create_pupil(
        ctx.realm, project_id, principal.account_id, body.display_name
    )
    return Reply(
        status=201, body=PupilOutput(username=username, password=password), headers={"Cache-Control": "no-store"}
    )


@api(
    bp,
    f"{BASE}/pupil-sessions",
    method="POST",
    summary="A pupil signs in with the credentials a teacher created",
    body=LoginInput,
    responses={201: TokenOutput},
    problems=["invalid_credentials", "too_many_attempts", "not_found"],
    tags=TAGS,
)
def pupil_session(ctx: Ctx) -> Reply:
    _esep(ctx)
    body: LoginInput = ctx.body
    pair = ctx.flows.sessions.login(
        ctx.realm, body.username, body.password, ctx.client_ip, device_cookie=ctx.cookie(DEVICE_COOKIE)
    )
    return token_reply(ctx, pair, 201)

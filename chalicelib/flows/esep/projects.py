"""eTwinning projects (seed 003, «ΣΥΧΝΑ ΠΡΟΒΛΗΜΑΤΑ» 3): draft → submitted (the partner
is invited) → accepted → approved by the NSO (``active``); members and pupils.

Everyone who joins a project — the founder, the partner, a member added later — must
pass every eligibility rule, and a refusal names each rule that failed, so the teacher
knows what to fix instead of guessing (the seed's most common question).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.accounts import Account, AccountStatus
from chalicelib.domain.audit import audit
from chalicelib.domain.esep import IMAGE_MAX_BYTES, PUPIL_ROLE, Member, Project, ProjectStatus, Viewer
from chalicelib.domain.mail import MailMessage
from chalicelib.domain.tasks import Task
from chalicelib.errors import DuplicateValue, Forbidden, InvalidInput, NotEligible, NotFound, PayloadTooLarge
from chalicelib.flows.esep.network import retried
from chalicelib.flows.esep.rules import clean_list, failed_rules
from chalicelib.flows.links import Links
from chalicelib.ports import (
    AccountRepository,
    Clock,
    EsepRepository,
    FileStore,
    Mailer,
    PasswordHasher,
    SecretSource,
    TaskQueue,
)
from chalicelib.realms import RealmConfig, get_realm

log = logging.getLogger(__name__)

INVITATION_MAIL = "esep.invitation_mail"
ANSWER_MAIL = "esep.invitation_answer_mail"
IMAGE_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: pupils copy these by hand."""
TEXT_LIMITS = {
    "title": (3, 200),
    "description": (10, 2000),
    "goals": (10, 5000),
    "process": (10, 5000),
    "outcomes": (10, 5000),
}


@dataclass(frozen=True)
class ProjectDraft:
    organisation_id: str
    partner_id: str
    title: str
    description: str
    language: str
    pupils_count: int
    pupils_age_min: int
    pupils_age_max: int
    subjects: list[str]
    goals: str
    process: str
    outcomes: str
    vocational_subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EsepProjects:
    esep: EsepRepository
    accounts: AccountRepository
    hasher: PasswordHasher
    files: FileStore
    tasks: TaskQueue
    mailer: Mailer
    clock: Clock
    secrets: SecretSource
    links: Links | None = None
    """Where the invitation mail sends the partner (the invitations page)."""

    def create(self, owner_id: str, draft: ProjectDraft) -> Project:
        """A draft from one of the owner's organisations with a partner from their contacts.

        Raises InvalidInput, NotEligible (the owner or the partner, naming each rule).
        """
        owner = self._member(owner_id)
        errors: dict[str, list[str]] = {}
        values, subjects, vocational = self._description(draft, errors)
        if draft.organisation_id not in owner.organisation_ids:
            errors["organisation_id"] = ["must be one of your organisations"]
        if draft.partner_id not in owner.contacts:
            errors["partner_id"] = ["the partner must be one of your contacts"]
        if errors:
            raise InvalidInput(errors=errors)
        language = values["language"]
        self._require_eligible(owner_id, owner)
        self._require_eligible(draft.partner_id, self.esep.get_member(draft.partner_id))
        now = self.clock.now()
        project = Project(
            project_id=self.secrets.identifier(),
            owner_id=owner_id,
            organisation_id=draft.organisation_id,
            partner_id=draft.partner_id,
            title=values["title"],
            description=values["description"],
            language=language,
            pupils_count=draft.pupils_count,
            pupils_age_min=draft.pupils_age_min,
            pupils_age_max=draft.pupils_age_max,
            subjects=subjects,
            vocational_subjects=vocational,
            goals=values["goals"],
            process=values["process"],
            outcomes=values["outcomes"],
            status=ProjectStatus.DRAFT,
            country=owner.country,
            created_at=now,
            updated_at=now,
            members=(owner_id,),
        )
        self.esep.create_project(project)
        return project

    def view(self, project_id: str, viewer: Viewer) -> dict[str, Any]:
        """The preview: only to the people of the project and the NSO of its country."""
        project = self._visible(project_id, viewer)
        return project_view(project)

    @staticmethod
    def _description(
        draft: ProjectDraft, errors: dict[str, list[str]]
    ) -> tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]:
        """The description's fields cleaned (texts, language), its subjects and vocational
        subjects; each field that is wrong is added to ``errors``."""
        values = {name: " ".join(getattr(draft, name).split()) for name in TEXT_LIMITS}
        for name, (low, high) in TEXT_LIMITS.items():
            if not low <= len(values[name]) <= high:
                errors[name] = [f"must be {low} to {high} characters long"]
        language = draft.language.strip().lower()
        if not (len(language) == 2 and language.isascii() and language.isalpha()):
            errors["language"] = ["must be a two-letter language code (e.g. el, en)"]
        values["language"] = language
        if not 1 <= draft.pupils_count <= 1000:
            errors["pupils.count"] = ["must be 1 to 1000"]
        if not 3 <= draft.pupils_age_min <= draft.pupils_age_max <= 25:
            errors["pupils.age_min"] = ["ages must be 3 to 25, the youngest first"]
        subjects = clean_list(draft.subjects, "subjects", errors)
        if not subjects:
            errors.setdefault("subjects", []).append("name at least one subject")
        vocational = clean_list(draft.vocational_subjects, "vocational_subjects", errors)
        return values, subjects, vocational

    def update(self, project_id: str, owner_id: str, draft: ProjectDraft) -> Project:
        """The preview's «change the description»: a draft's texts, language, pupils and
        subjects. Its school and partner stay (choosing others is a new project), and
        nothing changes once it is submitted (the partner accepted what they read).

        Raises InvalidInput, NotFound (not the caller's project).
        """
        errors: dict[str, list[str]] = {}
        values, subjects, vocational = self._description(draft, errors)
        if errors:
            raise InvalidInput(errors=errors)

        def change() -> Project:
            project = self._owned(project_id, owner_id)
            if project.status is not ProjectStatus.DRAFT:
                raise InvalidInput(errors={"project": ["only a draft can be changed"]})
            if (draft.organisation_id, draft.partner_id) != (project.organisation_id, project.partner_id):
                raise InvalidInput(errors={"partner_id": ["a draft keeps its school and partner"]})
            for name in TEXT_LIMITS:
                setattr(project, name, values[name])
            project.language = values["language"]
            project.pupils_count = draft.pupils_count
            project.pupils_age_min, project.pupils_age_max = draft.pupils_age_min, draft.pupils_age_max
            project.subjects, project.vocational_subjects = subjects, vocational
            project.updated_at = self.clock.now()
            self.esep.save_project(project)
            return project

        return retried(change)

    def mine(self, account_id: str) -> list[dict[str, Any]]:
        """The projects of a member (founded, invited to, member of), newest first; an
        invitation they declined is left out (it is the owner's to see)."""
        return [
            project_view(project)
            for project in self.esep.projects_of(account_id)
            if not (project.status is ProjectStatus.DECLINED and project.owner_id != account_id)
        ]

    def invitations(self, account_id: str) -> list[dict[str, Any]]:
        """Projects whose partner is ``account_id`` and that wait for their answer."""
        return [
            project_view(project)
            for project in self.esep.projects_of(account_id)
            if project.partner_id == account_id and project.status is ProjectStatus.SUBMITTED
        ]

    def pupil_project(self, realm: RealmConfig, account_id: str) -> str | None:
        """The project a pupil login was made for (None for anyone else)."""
        account = self.accounts.get(realm.id, account_id)
        if account is None or PUPIL_ROLE not in account.roles:
            return None
        return account.extra.get("project_id") or None

    def image(self, project_id: str, viewer: Viewer) -> tuple[bytes, str] | None:
        """The project's image and its media type (judged by its bytes), for those who may
        see the project; None when it has none."""
        project = self._visible(project_id, viewer)
        if project.image_key is None:
            return None
        data = self.files.get(project.image_key, max_bytes=IMAGE_MAX_BYTES)
        if data is None:
            return None
        kind = next((name for name, magic in IMAGE_TYPES.items() if data.startswith(magic)), None)
        return (data, kind) if kind else None

    def submit(self, project_id: str, owner_id: str) -> Project:
        def change() -> Project:
            project = self._owned(project_id, owner_id)
            if project.status is not ProjectStatus.DRAFT:
                raise InvalidInput(errors={"project": ["only a draft can be submitted"]})
            project.status = ProjectStatus.SUBMITTED
            project.updated_at = self.clock.now()
            self.esep.save_project(project)
            return project

        project = retried(change)
        self.tasks.enqueue(Task(INVITATION_MAIL, {"project_id": project_id}))
        return project

    def answer_invitation(self, project_id: str, partner_id: str, decision: str) -> Project:
        if decision not in ("accept", "decline"):
            raise InvalidInput(errors={"decision": ["must be accept or decline"]})

        def change() -> Project:
            project = self.esep.get_project(project_id)
            if project is None or partner_id != project.partner_id:
                raise NotFound("No such invitation.")
            if project.status is not ProjectStatus.SUBMITTED:
                raise InvalidInput(errors={"project": ["the invitation was answered already"]})
            if decision == "accept":
                self._require_eligible(partner_id, self.esep.get_member(partner_id))
                project.status = ProjectStatus.ACCEPTED
            else:
                project.status = ProjectStatus.DECLINED
            project.updated_at = self.clock.now()
            self.esep.save_project(project)
            return project

        project = retried(change)
        self.tasks.enqueue(Task(ANSWER_MAIL, {"project_id": project_id, "decision": decision}))
        return project

    def add_member(self, project_id: str, by: str, account_id: str) -> Project:
        """A teacher of an active project adds someone who passes every rule."""

        def change() -> Project:
            project = self._active_member_of(project_id, by)
            if account_id in project.members:
                return project
            self._require_eligible(account_id, self.esep.get_member(account_id))
            project.members = (*project.members, account_id)
            project.updated_at = self.clock.now()
            self.esep.save_project(project, joined=(account_id,))
            return project

        return retried(change)

    def create_pupil(self, realm: RealmConfig, project_id: str, by: str, display_name: str) -> tuple[str, str]:
        """A pupil login for the project: (username, password), the password shown once."""
        name = " ".join(display_name.split())
        if not 1 <= len(name) <= 80:
            raise InvalidInput(errors={"display_name": ["must be 1 to 80 characters long"]})
        project = self._active_member_of(project_id, by)
        password = self._password()
        now = self.clock.now()
        for _ in range(5):
            username = "pupil-" + self._password()[:8]
            account = Account(
                account_id=self.secrets.identifier(),
                realm=realm.id,
                username=username,
                # Pupils have no mailbox: a reserved, undeliverable address (RFC 2606)
                # keeps the per-realm e-mail guard meaningful.
                email=f"{username}@pupils.invalid",
                status=AccountStatus.ACTIVE,
                created_at=now,
                updated_at=now,
                activated_at=now,
                password_hash=self.hasher.hash(password),
                roles=(PUPIL_ROLE,),
                extra={"display_name": name, "project_id": project.project_id},
            )
            entry = audit(realm.id, account.account_id, "account_created", actor=by, at=now, role="pupil")
            try:
                self.accounts.create(account, audit=entry)
                break
            except DuplicateValue:
                continue
        else:
            raise RuntimeError("could not find a free pupil username")

        def change() -> Project:
            current = self._active_member_of(project_id, by)
            current.pupils = (*current.pupils, account.account_id)
            current.updated_at = self.clock.now()
            self.esep.save_project(current)
            return current

        retried(change)
        return username, password

    def attach_image(self, project_id: str, owner_id: str, content_type: str, data: bytes) -> str:
        """Store the project's image after checking its type (by content, not by name)
        and size; returns its key.

        One key per project whatever the type, so a JPEG replacing a PNG overwrites it
        instead of leaving the old picture behind (the store has no delete), and two
        uploads racing cannot leave ``image_key`` naming the older one.

        Raises InvalidInput (not PNG or JPEG, content not of the claimed type, the project
        no longer a draft), PayloadTooLarge (over ``IMAGE_MAX_BYTES``), NotFound (not the
        caller's project).
        """
        kind = content_type.split(";")[0].strip().lower()
        if kind not in IMAGE_TYPES:
            raise InvalidInput(errors={"image": ["must be a PNG or JPEG image"]})
        if len(data) > IMAGE_MAX_BYTES:
            limit = f"at most {IMAGE_MAX_BYTES // (1024 * 1024)} MB"
            raise PayloadTooLarge(f"The image must be {limit}.", errors={"image": [limit]})
        if not data.startswith(IMAGE_TYPES[kind]):
            raise InvalidInput(errors={"image": ["the file is not the image type it claims to be"]})
        key = f"projects/{project_id}/image"

        def change() -> Project:
            project = self._owned(project_id, owner_id)
            if project.status is not ProjectStatus.DRAFT:
                raise InvalidInput(errors={"project": ["the image can change while the project is a draft"]})
            self.files.put(key, data, kind)
            project.image_key = key
            project.updated_at = self.clock.now()
            self.esep.save_project(project)
            return project

        retried(change)
        return key

    # --- mail tasks ------------------------------------------------------------------

    def deliver_invitation(self, payload: dict[str, str]) -> None:
        people = self._project_and_people(payload["project_id"])
        if people is not None:
            project, owner, partner = people
            link = self.links.page("esep", "invitations") if self.links is not None else ""
            self._mail("esep_invitation", partner, project, inviter=owner.display_name, link=link)

    def deliver_answer(self, payload: dict[str, str]) -> None:
        people = self._project_and_people(payload["project_id"])
        if people is not None:
            project, owner, partner = people
            self._mail(
                "esep_invitation_answer", owner, project, partner=partner.display_name, decision=payload["decision"]
            )

    def _project_and_people(self, project_id: str) -> tuple[Project, Member, Member] | None:
        """A mail task's project with its owner and partner (None once any is gone)."""
        project = self.esep.get_project(project_id)
        if project is None:
            return None
        owner, partner = self.esep.get_member(project.owner_id), self.esep.get_member(project.partner_id)
        if owner is None or partner is None:
            return None
        return project, owner, partner

    def _mail(self, template: str, to: Member, project: Project, **context: object) -> None:
        realm = get_realm("esep")
        language = realm.default_language
        self.mailer.send(
            MailMessage(
                template,
                to.email,
                language,
                {
                    "realm_name": getattr(realm.name, language),
                    "first_name": to.given_name,
                    "title": project.title,
                    **context,
                },
            )
        )

    # --- helpers ---------------------------------------------------------------------

    def _member(self, account_id: str) -> Member:
        member = self.esep.get_member(account_id)
        if member is None:
            raise Forbidden("Only eTwinning members can do this.")
        return member

    def _require_eligible(self, account_id: str, member: Member | None) -> None:
        organisations = self.esep.get_organisations(member.organisation_ids) if member else {}
        rules = failed_rules(member, organisations)
        if rules:
            raise NotEligible(errors={"rules": [str(rule) for rule in rules]}, extra={"account_id": account_id})

    def _owned(self, project_id: str, owner_id: str) -> Project:
        project = self.esep.get_project(project_id)
        if project is None or project.owner_id != owner_id:
            raise NotFound("No such project of yours.")
        return project

    def _active_member_of(self, project_id: str, account_id: str) -> Project:
        project = self.esep.get_project(project_id)
        if project is None or account_id not in project.members:
            raise NotFound("No such project of yours.")
        if project.status is not ProjectStatus.ACTIVE:
            raise InvalidInput(errors={"project": ["the project is not active yet"]})
        return project

    def _visible(self, project_id: str, viewer: Viewer) -> Project:
        project = self.esep.get_project(project_id)
        if project is None:
            raise NotFound("No such project.")
        people = {project.owner_id, project.partner_id, *project.members, *project.pupils}
        if viewer.account_id in people or (viewer.nso_country is not None and viewer.nso_country == project.country):
            return project
        raise NotFound("No such project.")

    def _password(self) -> str:
        raw = self.secrets.token().encode()
        letters = "".join(PASSWORD_ALPHABET[byte % len(PASSWORD_ALPHABET)] for byte in raw)
        return "-".join(letters[i : i + 4] for i in (0, 4, 8))


def project_view(project: Project) -> dict[str, Any]:
    return {
        "project_id": project.project_id,
        "status": str(project.status),
        "owner_id": project.owner_id,
        "partner_id": project.partner_id,
        "organisation_id": project.organisation_id,
        "title": project.title,
        "description": project.description,
        "language": project.language,
        "pupils": {"count": project.pupils_count, "age_min": project.pupils_age_min, "age_max": project.pupils_age_max},
        "subjects": list(project.subjects),
        "vocational_subjects": list(project.vocational_subjects),
        "goals": project.goals,
        "process": project.process,
        "outcomes": project.outcomes,
        "image": project.image_key is not None,
        "members": list(project.members),
        "pupil_count": len(project.pupils),
        "reason": project.reason,
        "country": project.country,
    }

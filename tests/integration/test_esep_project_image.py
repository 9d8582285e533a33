"""A project's image (SPEC §2.7 «projects: … image»): ``PUT /projects/{id}/image`` with the
PNG or JPEG itself as the body, through the Chalice test client into the S3 emulator.

The type is judged by the bytes, not by what the client claims; only the owner uploads,
and only while the project is a draft.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from tests.support.browser import Browser
from tests.support.esep import API, Member, active_teacher, nso, organisation, project_body, validate

IMAGE_LIMIT = 2 * 1024 * 1024


def png(width: int = 2, height: int = 2, *, padding: int = 0) -> bytes:
    """A real PNG (signature, IHDR, IDAT, IEND with their CRCs) of grey pixels; ``padding``
    bytes in a private ancillary chunk make it as large as a test needs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))  # filter byte, then pixels
    extra = chunk(b"prVt", b"\x00" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + extra
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """The start of a JFIF file: what the type check looks at (SOI, APP0 «JFIF»)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


@dataclass
class Draft:
    owner: Member
    partner: Member
    project_id: str

    @property
    def path(self) -> str:
        return f"{API}/projects/{self.project_id}/image"

    @property
    def key(self) -> str:
        return f"projects/{self.project_id}/image"


def draft(browser: Browser) -> Draft:
    """A draft project of an active teacher with an active partner from her contacts."""
    admin = nso(browser, "GR")
    school = organisation(browser, "Γυμνάσιο Τήνου", city="Τήνος")
    validate(browser, admin, organisations=[school])
    owner, partner = active_teacher(browser, admin, school), active_teacher(browser, admin, school)
    assert browser.post(f"{API}/me/contacts", json={"account_id": partner.account_id}, headers=owner.auth).status == 201
    created = browser.post(f"{API}/projects", json=project_body(school, partner.account_id), headers=owner.auth)
    assert created.status == 201, created.text
    assert created.json["image"] is False
    return Draft(owner, partner, str(created.json["project_id"]))


def stored(key: str) -> bytes | None:
    from chalicelib.container import services

    files = services().ports.files
    return files.get(key, max_bytes=IMAGE_LIMIT) if files.exists(key) else None


def test_the_owner_uploads_a_png_and_may_replace_it_with_a_jpeg(browser: Browser) -> None:
    # Given a draft project
    project = draft(browser)
    image = png()

    # When its owner uploads a PNG
    uploaded = browser.put(project.path, body=image, headers={**project.owner.auth, "Content-Type": "image/png"})

    # Then the preview says it has an image, and the emulator holds exactly those bytes
    assert uploaded.status == 200, uploaded.text
    assert uploaded.json["image"] is True
    assert browser.get(f"{API}/projects/{project.project_id}", headers=project.owner.auth).json["image"] is True
    assert stored(project.key) == image

    # When she replaces it with a JPEG (a media type with parameters, as some clients send)
    replaced = browser.put(
        project.path, body=jpeg(), headers={**project.owner.auth, "Content-Type": "image/jpeg; charset=binary"}
    )

    # Then the one image of the project is the JPEG (no old PNG is left behind)
    assert replaced.status == 200, replaced.text
    assert stored(project.key) == jpeg()


def test_an_image_over_the_api_body_limit_but_within_two_megabytes_is_taken(browser: Browser) -> None:
    # Given a PNG of 1.5 MB: over the 1 MiB cap of JSON bodies, within the image limit
    project = draft(browser)
    image = png(padding=1536 * 1024)

    # When the owner uploads it
    uploaded = browser.put(project.path, body=image, headers={**project.owner.auth, "Content-Type": "image/png"})

    # Then it is stored whole
    assert uploaded.status == 200, uploaded.text
    assert stored(project.key) == image


def test_an_image_over_two_megabytes_is_refused_413(browser: Browser) -> None:
    # Given a PNG one byte over 2 MB, and a much larger one
    project = draft(browser)
    small = png()
    just_over = png(padding=IMAGE_LIMIT - len(small) + 1 - 12)  # a chunk costs 12 bytes of framing
    assert len(just_over) == IMAGE_LIMIT + 1

    # When the owner uploads them
    answers = [
        browser.put(project.path, body=body, headers={**project.owner.auth, "Content-Type": "image/png"})
        for body in (just_over, png(padding=5 * 1024 * 1024))
    ]

    # Then each is refused as too large (never a 500), and nothing is stored
    for answer in answers:
        assert answer.status == 413, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json["code"] == "payload_too_large"
        assert answer.json["errors"] == {"image": ["at most 2 MB"]}
    assert stored(project.key) is None
    assert browser.get(f"{API}/projects/{project.project_id}", headers=project.owner.auth).json["image"] is False


def test_content_that_is_not_the_claimed_type_is_refused_422(browser: Browser) -> None:
    # Given a draft project
    project = draft(browser)

    # When the owner sends a PNG saying it is a JPEG, a JPEG saying PNG, and an empty PNG
    answers = [
        browser.put(project.path, body=body, headers={**project.owner.auth, "Content-Type": claimed})
        for body, claimed in ((png(), "image/jpeg"), (jpeg(), "image/png"), (b"", "image/png"))
    ]

    # Then each is refused by its content, and nothing is stored
    for answer in answers:
        assert answer.status == 422, answer.text
        assert answer.json["code"] == "invalid_input"
        assert answer.json["errors"] == {"image": ["the file is not the image type it claims to be"]}
    assert stored(project.key) is None


def test_other_media_types_are_refused_415_and_json_422(browser: Browser) -> None:
    # Given a draft project
    project = draft(browser)
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"

    # When the owner sends a GIF, text, and a JSON body instead of an image
    answers = {
        claimed: browser.put(project.path, body=body, headers={**project.owner.auth, "Content-Type": claimed})
        for body, claimed in ((gif, "image/gif"), (b"a picture", "text/plain"), (png(), "application/octet-stream"))
    }
    as_json = browser.put(project.path, json={}, headers=project.owner.auth)

    # Then media types the route does not take are refused before the handler, as problem details
    for claimed, answer in answers.items():
        assert answer.status == 415, (claimed, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json["code"] == "unsupported_media_type"
    # And a JSON body, which the route accepts as a media type, carries no image
    assert as_json.status == 422, as_json.text
    assert as_json.json["errors"] == {"image": ["must be a PNG or JPEG image"]}
    assert stored(project.key) is None


def test_only_the_owner_uploads_and_only_while_the_project_is_a_draft(browser: Browser) -> None:
    # Given a draft project
    project = draft(browser)
    headers = {"Content-Type": "image/png"}

    # When the partner, and someone without a session, try to upload
    by_partner = browser.put(project.path, body=png(), headers={**project.partner.auth, **headers})
    browser.jar.clear()  # the browser's session cookie is whoever signed in last in it
    anonymous = browser.put(project.path, body=png(), headers=headers)

    # Then the partner finds no project of theirs and the anonymous caller must sign in
    assert by_partner.status == 404 and by_partner.json["code"] == "not_found"
    assert anonymous.status == 401 and anonymous.json["code"] == "unauthorized"
    assert stored(project.key) is None

    # When the owner submits the project and then tries to upload
    assert browser.post(f"{API}/projects/{project.project_id}/submit", headers=project.owner.auth).status == 200
    late = browser.put(project.path, body=png(), headers={**project.owner.auth, **headers})

    # Then the image can no longer change
    assert late.status == 422 and late.json["code"] == "invalid_input"
    assert "project" in late.json["errors"]
    assert stored(project.key) is None

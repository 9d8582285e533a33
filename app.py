"""Mitroo's Chalice application: wiring only (routes live in ``chalicelib.web``)."""

from __future__ import annotations

import os

from chalice import Chalice

from chalicelib.web import (
    activation,
    certification,
    eulogin,
    fallback,
    gsis,
    pages,
    recovery,
    registration,
    schedules,
    sessions,
    support,
    system,
    workers,
)
from chalicelib.web.account import api as account
from chalicelib.web.account import data as account_data
from chalicelib.web.account import email as account_email
from chalicelib.web.account import pages as account_pages
from chalicelib.web.admin import accounts as admin_accounts
from chalicelib.web.admin import audit as admin_audit
from chalicelib.web.admin import jobs, jobs_pages, legacy, registrar
from chalicelib.web.admin import pages as admin_pages
from chalicelib.web.admin import tickets as admin_tickets
from chalicelib.web.esep import api as esep
from chalicelib.web.esep import desk_pages as esep_desk_pages
from chalicelib.web.esep import member_pages as esep_member_pages
from chalicelib.web.mfa import api as mfa
from chalicelib.web.mfa import pages as mfa_pages
from chalicelib.web.middleware import register_middleware
from chalicelib.web.oidc import admin as oidc_admin
from chalicelib.web.oidc import routes as oidc

app = Chalice(app_name="mitroo")
# Spreadsheets travel as binary bodies (API Gateway base64-encodes them for Lambda).
app.api.binary_types.extend(
    [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "multipart/form-data",
        "image/png",
        "image/jpeg",
    ]
)
register_middleware(app)

for blueprint in (
    system,
    gsis,
    eulogin,
    registration,
    activation,
    recovery,
    certification,
    sessions,
    mfa,
    account,
    support,
    esep,
    oidc,
    oidc_admin,
    legacy,
    registrar,
    admin_accounts,
    admin_audit,
    admin_tickets,
    jobs,
    pages,
    mfa_pages,
    account_email,
    account_pages,
    account_data,
    jobs_pages,
    admin_pages,
    esep_member_pages,
    esep_desk_pages,
    workers,
    schedules,
):
    app.register_blueprint(blueprint.bp)

if os.environ.get("MITROO_DEV_ROUTES") == "1":
    # Wiring decision, not configuration: deployed stages never set this, so the dev
    # mailbox route does not exist in their API at all (SPEC §4).
    from chalicelib.web import dev

    app.register_blueprint(dev.bp)

app.register_blueprint(fallback.bp)

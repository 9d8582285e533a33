"""The administration consoles (SPEC §2.11): the API under ``/api/v1/realms/{r}/admin/``
and the pages under ``/realms/{r}/admin/``, one module per capability, every route
authorised by :mod:`chalicelib.web.admin.access`.

``require_role`` is importable from here too, where routes written before the package
existed (``from chalicelib.web.admin import require_role``) look for it.
"""

from __future__ import annotations

from chalicelib.web.admin.access import admin_principal, authorise, require_role

__all__ = ["admin_principal", "authorise", "require_role"]

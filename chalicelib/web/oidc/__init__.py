"""The realm's OpenID Provider over HTTP: routes, authlib's server on Chalice, the
single sign-on cookie, and the admin API of clients (SPEC §2.8)."""

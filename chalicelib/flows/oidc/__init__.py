"""Every realm is an OpenID Provider (SPEC §2.8): the steps, as plain Python over ports.

The protocol itself (request validation, client authentication, PKCE, error responses)
is authlib's authorization server, wired in ``chalicelib.web.oidc``; these modules hold
what is Mitroo's: which clients exist (``clients``), which browser session may get a
code and what it records (``authorization``), how codes become tokens and tokens rotate
and end (``tokens``), what each scope releases (``claims``) and how clients learn that
a session ended (``backchannel``).
"""

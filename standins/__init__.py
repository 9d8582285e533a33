"""Dev/test-only stand-ins for the external identity providers Mitroo talks to.

Each stand-in is a small stdlib-only HTTP server that reproduces the real
provider's protocol *and its quirks*, so Mitroo's client code can be exercised
end to end without network access or real credentials.

Nothing in this package is production code: it is never packaged into the
Lambda deployment and must never be imported by the service itself.
"""

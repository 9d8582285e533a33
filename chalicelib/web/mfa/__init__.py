"""Second factors over HTTP: the API of SPEC §2.9 and the Security and second-step pages."""

"""Mitroo: account registration and recovery for education platforms.

Everything under this package is shipped to Lambda by Chalice; keep dev-only code
(stand-ins, emulator launchers) outside it.
"""

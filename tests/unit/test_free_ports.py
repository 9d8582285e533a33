"""The ports the test and run helpers hand out at once are different from each other:
the race cluster once got the same port for a container and the EU Login stand-in."""

from __future__ import annotations

import socket

from devtools.site_process import free_ports


def test_ports_taken_together_are_all_different_and_bindable() -> None:
    # When sixty ports are asked for at once
    ports = free_ports(60)

    # Then no two are the same, and each can be bound now
    assert len(set(ports)) == 60
    for port in ports:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))

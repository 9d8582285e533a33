"""Fixtures for flow unit tests: a fresh set of fakes and wired flows per test."""

from __future__ import annotations

import pytest

from chalicelib.domain.identity import GsisIdentity
from tests.fakes import Kit, afm_with_check_digit, build_flows, make_identity


@pytest.fixture
def kit() -> Kit:
    return build_flows("eiep")


@pytest.fixture
def maria() -> GsisIdentity:
    return make_identity(afm_with_check_digit("12345678"))


@pytest.fixture
def nikos() -> GsisIdentity:
    return make_identity(afm_with_check_digit("23456789"), last_name="ΝΙΚΟΛΑΟΥ", first_name="ΝΙΚΟΣ", userid="nnik")

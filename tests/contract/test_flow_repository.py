"""FlowRepository contract: OAuth states are single use; identity flows round-trip.

Proves: a state comes back exactly as saved and only once (also under 20 concurrent
takes); a flow keeps its identity, params and ``used_at``; unknown hashes give None.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.flows import Intent
from chalicelib.domain.identity import GsisIdentity
from chalicelib.ports import FlowRepository
from tests.contract.builders import NOW, identity_flow, oauth_state, unique_afm, unique_hash
from tests.fakes import InMemoryFlowRepository, race


class FlowRepositoryContract:
    repo: FlowRepository

    def test_a_taken_state_equals_the_saved_one(self) -> None:
        state = oauth_state(intent=Intent.RECOVER_EMAIL, params={"ticket": "t-1", "next": "/x?y=1"})
        self.repo.save_state(state)
        assert self.repo.take_state(state.state_hash) == state

    def test_a_state_without_params_round_trips(self) -> None:
        state = oauth_state()
        self.repo.save_state(state)
        assert self.repo.take_state(state.state_hash) == state

    def test_a_state_can_be_taken_once(self) -> None:
        state = oauth_state()
        self.repo.save_state(state)
        assert self.repo.take_state(state.state_hash) is not None
        assert self.repo.take_state(state.state_hash) is None

    def test_an_unknown_state_is_none(self) -> None:
        assert self.repo.take_state(unique_hash()) is None

    def test_a_flow_round_trips_with_identity_and_params(self) -> None:
        flow = identity_flow(params={"reset": "r-1"}, intent=Intent.RESET_PASSWORD)
        self.repo.save_flow(flow)
        assert self.repo.get_flow(flow.flow_hash) == flow

    def test_a_flow_keeps_empty_optional_identity_fields(self) -> None:
        sparse = GsisIdentity(unique_afm(), "ΝΙΚΟΛΑΟΥ", "ΝΙΚΟΣ", "", "", "", "")
        flow = identity_flow(identity=sparse)
        self.repo.save_flow(flow)
        assert self.repo.get_flow(flow.flow_hash) == flow

    def test_a_used_flow_keeps_used_at(self) -> None:
        flow = identity_flow(used_at=NOW + timedelta(minutes=2))
        self.repo.save_flow(flow)
        assert self.repo.get_flow(flow.flow_hash) == flow

    def test_a_flow_can_be_read_many_times(self) -> None:
        flow = identity_flow()
        self.repo.save_flow(flow)
        assert self.repo.get_flow(flow.flow_hash) == self.repo.get_flow(flow.flow_hash) == flow

    def test_an_unknown_flow_is_none(self) -> None:
        assert self.repo.get_flow(unique_hash()) is None

    @pytest.mark.slow
    def test_of_20_concurrent_takes_of_one_state_exactly_one_gets_it(self) -> None:
        state = oauth_state()
        self.repo.save_state(state)
        outcomes = race(20, lambda _: self.repo.take_state(state.state_hash))
        assert [outcome for outcome in outcomes if outcome is not None] == [state]


class TestInMemoryFlowRepository(FlowRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self) -> None:
        self.repo = InMemoryFlowRepository()


class TestDynamoFlowRepository(FlowRepositoryContract):
    @pytest.fixture(autouse=True)
    def _repository(self, dynamo_models: Any) -> None:
        from chalicelib.adapters.dynamodb.repositories import DynamoFlowRepository

        self.repo = DynamoFlowRepository(dynamo_models)

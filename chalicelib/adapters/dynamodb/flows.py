"""OAuth states (single use) and identity flows in DynamoDB."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters.dynamodb.common import (
    conditional_failed,
    identity_from,
    identity_map,
    load,
    plain_map,
    store,
    take,
)
from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.esep import EuLoginIdentity
from chalicelib.domain.flows import IdentityFlow, Intent, OAuthState


class DynamoFlowRepository:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def save_state(self, state: OAuthState) -> None:
        item = self._m.OAuthStateItem(f"OAUTHSTATE#{state.state_hash}", "STATE")
        store(item, state, skip=("state_hash",), purge_at=state.expires_at)
        item.save(condition=self._m.Item.pk.does_not_exist())

    def take_state(self, state_hash: str) -> OAuthState | None:
        item = take(self._m.OAuthStateItem, f"OAUTHSTATE#{state_hash}", "STATE")
        if item is None:
            return None
        return load(OAuthState, item, state_hash=state_hash, intent=Intent(item.intent), params=plain_map(item.params))

    def save_flow(self, flow: IdentityFlow) -> None:
        item = self._m.FlowItem(f"FLOW#{flow.flow_hash}", "FLOW")
        store(item, flow, skip=("flow_hash", "identity"), purge_at=flow.expires_at)
        if isinstance(flow.identity, EuLoginIdentity):
            item.eulogin = flow.identity.public_fields()
        else:
            item.identity = identity_map(flow.identity)
        item.save(condition=self._m.Item.pk.does_not_exist())

    def get_flow(self, flow_hash: str) -> IdentityFlow | None:
        try:
            item = self._m.FlowItem.get(f"FLOW#{flow_hash}", "FLOW", consistent_read=True)
        except DoesNotExist:
            return None
        return load(
            IdentityFlow,
            item,
            flow_hash=flow_hash,
            intent=Intent(item.intent),
            identity=_eulogin(plain_map(item.eulogin)) if item.eulogin else identity_from(item.identity),
            params=plain_map(item.params),
        )

    def mark_flow_used(self, flow_hash: str, now: datetime) -> bool:
        m = self._m
        try:
            m.FlowItem(f"FLOW#{flow_hash}", "FLOW").update(
                actions=[m.FlowItem.used_at.set(now)],
                condition=m.Item.pk.exists() & m.FlowItem.used_at.does_not_exist(),
            )
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True


def _eulogin(data: dict[str, str]) -> EuLoginIdentity:
    return EuLoginIdentity(
        subject=data["sub"], email=data["email"], given_name=data["given_name"], family_name=data["family_name"]
    )

"""Action challenges in DynamoDB: the challenge beside its account, lookups by token hash."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.adapters.dynamodb.common import conditional_failed, load, store
from chalicelib.adapters.dynamodb.models import BoundModels, account_pk
from chalicelib.domain.tokens import Challenge, Purpose


class DynamoChallengeRepository:
    """The challenge lives beside its account; ``TOKEN#h`` items only point to it.

    Replacing a challenge overwrites the account-side item, so an older link's lookup
    still resolves but no longer matches the stored token hash: it is dead.
    """

    def __init__(self, models: BoundModels) -> None:
        self._m = models

    def replace(self, challenge: Challenge) -> None:
        lookup = self._m.ChallengeLookup(f"TOKEN#{challenge.token_hash}", "TOKEN")
        lookup.realm, lookup.account_id, lookup.purpose = challenge.realm, challenge.account_id, str(challenge.purpose)
        lookup.purge_at = challenge.expires_at
        lookup.save()
        store(self._key(challenge), challenge, purge_at=challenge.expires_at).save()

    def find_by_token(self, token_hash: str) -> Challenge | None:
        try:
            lookup = self._m.ChallengeLookup.get(f"TOKEN#{token_hash}", "TOKEN", consistent_read=True)
        except DoesNotExist:
            return None
        challenge = self.find_for_account(lookup.realm, lookup.account_id, Purpose(lookup.purpose))
        if challenge is None or challenge.token_hash != token_hash:
            return None
        return challenge

    def find_for_account(self, realm: str, account_id: str, purpose: Purpose) -> Challenge | None:
        try:
            item = self._m.ChallengeItem.get(
                account_pk(realm, account_id), f"CHALLENGE#{purpose}", consistent_read=True
            )
        except DoesNotExist:
            return None
        return load(Challenge, item, purpose=Purpose(item.purpose), subject=item.subject or None)

    def _key(self, challenge: Challenge) -> Any:
        return self._m.ChallengeItem(
            account_pk(challenge.realm, challenge.account_id), f"CHALLENGE#{challenge.purpose}"
        )

    def consume(self, challenge: Challenge) -> bool:
        try:
            self._key(challenge).delete(condition=self._m.ChallengeItem.token_hash == challenge.token_hash)
        except DeleteError as exc:
            if conditional_failed(exc):
                return False
            raise
        self._drop_lookup(challenge.token_hash)
        return True

    def discard(self, challenge: Challenge) -> None:
        if not self.consume(challenge):
            self._drop_lookup(challenge.token_hash)

    def _drop_lookup(self, token_hash: str) -> None:
        self._m.ChallengeLookup(f"TOKEN#{token_hash}", "TOKEN").delete()

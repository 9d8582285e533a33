"""Attempt reservations in DynamoDB: one conditional UpdateItem per attempt, made before
any secret is compared (``domain/attempts.py`` says why).

Each key is one item, ``ATTEMPTS#<key>`` / ``ATTEMPTS``. DynamoDB applies the updates
of one item one after the other, so the condition of each reservation sees every
reservation before it: of a burst of fifty, exactly as many are granted as one after
another would be. A refused update writes nothing; DynamoDB hands back the item as it
was (``ReturnValuesOnConditionCheckFailure``), which says how long to wait, so a refusal
costs one call too.

Back-off keys move through three updates, each conditional on the state it was chosen
for (a racer that changed the item makes the condition fail, and the item it returns is
read again):

* *free*: fewer than ``free`` unsettled attempts, or none — count one more;
* *forgotten*: the last attempt is older than ``memory`` — start again at one;
* *waited*: past ``retry_at`` (or, right after the last free attempt, past its wait) —
  count one more and set the next ``retry_at`` at once, so the waiting period admits
  exactly one attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.models import BoundModels
from chalicelib.domain.attempts import Backoff, Claim, RateWindow, Reservation, seconds_until

_ROUNDS = 4
"""Reads of a racing item before a reservation gives up (and is refused)."""


def attempt_key(key: str) -> tuple[str, str]:
    return f"ATTEMPTS#{key}", "ATTEMPTS"


class DynamoAttemptLedger:
    def __init__(self, models: BoundModels) -> None:
        self._m = models

    # -- the port ---------------------------------------------------------------------------
    def reserve(self, claim: Claim, now: datetime) -> Reservation:
        if isinstance(claim.rule, Backoff):
            return self._reserve_backoff(claim.key, claim.rule, now)
        return self._reserve_window(claim.key, claim.rule, now)

    def give_back(self, reservation: Reservation, now: datetime) -> None:
        if not reservation.granted:
            return
        a = self._m.AttemptItem
        condition = a.n > 0
        if reservation.window is not None:
            condition &= a.w == reservation.window
        self._update(reservation.key, [a.n.add(-1)], condition)

    def clear(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._m.AttemptItem.batch_write() as batch:
            for key in keys:
                batch.delete(self._m.AttemptItem(*attempt_key(key)))

    # -- back-off ---------------------------------------------------------------------------
    def _reserve_backoff(self, key: str, rule: Backoff, now: datetime) -> Reservation:
        a = self._m.AttemptItem
        t = now.timestamp()
        forget = t - rule.memory.total_seconds()
        keep = [a.purge_at.set(now + rule.memory), self._m.Item.kind.set(a)]
        # The usual case: nothing recorded, or fewer than ``free`` recent attempts.
        done, item = self._update(
            key,
            [a.n.set((a.n | 0) + 1), a.at.set(t), *keep],
            a.n.does_not_exist() | ((a.n < rule.free) & (a.at > forget)),
        )
        for _ in range(_ROUNDS):
            if done:
                return Reservation(key, True, count=_number(item, "n"))
            n, at, retry_at = _number(item, "n"), _float(item, "at"), _float(item, "retry_at")
            if item is None or at is None:  # cleared meanwhile: start from nothing again
                done, item = self._update(key, [a.n.set((a.n | 0) + 1), a.at.set(t), *keep], a.n.does_not_exist())
            elif at <= forget:
                done, item = self._update(
                    key, [a.n.set(1), a.at.set(t), a.retry_at.remove(), *keep], (a.at == at) & (a.n == n)
                )
            else:
                allowed_at = retry_at if retry_at is not None else at + rule.wait_after(n).total_seconds()
                if allowed_at > t:
                    return Reservation(key, False, count=n, retry_after=seconds_until(allowed_at, now))
                next_at = t + rule.wait_after(n + 1).total_seconds()
                done, item = self._update(
                    key, [a.n.set(n + 1), a.at.set(t), a.retry_at.set(next_at), *keep], (a.at == at) & (a.n == n)
                )
        return Reservation(key, False, retry_after=1)  # lost every race: the others took the slots

    # -- sliding window ---------------------------------------------------------------------
    def _reserve_window(self, key: str, rule: RateWindow, now: datetime) -> Reservation:
        a = self._m.AttemptItem
        start = rule.window_start(now)
        seconds = max(int(rule.window.total_seconds()), 1)
        keep = [a.purge_at.set(datetime.fromtimestamp(start + 2 * seconds, UTC)), self._m.Item.kind.set(a)]
        # The usual case: the current window (or a key never seen) counts one more.
        done, item = self._update(key, [a.n.add(1), a.w.set(start), *keep], (a.w == start) | a.w.does_not_exist())
        for _ in range(_ROUNDS):
            if done:
                break
            old_w, old_n = _float(item, "w"), _number(item, "n")
            if old_w is not None and old_w >= start:  # rolled by a racer: count in it
                done, item = self._update(key, [a.n.add(1), *keep], a.w == start)
                continue
            previous = old_n if old_w == start - seconds else 0
            condition = a.w.does_not_exist() if old_w is None else (a.w == old_w) & (a.n == old_n)
            done, item = self._update(key, [a.w.set(start), a.n.set(1), a.p.set(previous), *keep], condition)
        if not done:
            return Reservation(key, False, retry_after=1)
        count, previous = _number(item, "n"), _number(item, "p")
        if rule.estimate(count, previous, now) > rule.limit:
            # Counted all the same: a sustained flood keeps its own window full.
            retry_after = seconds_until(start + seconds, now)
            return Reservation(key, False, count=count, retry_after=retry_after, window=start)
        return Reservation(key, True, count=count, window=start)

    # -- one conditional update -----------------------------------------------------------
    def _update(self, key: str, actions: list[Any], condition: Any) -> tuple[bool, dict[str, Any] | None]:
        """(True, the item after) or (False, the item as it was, None if absent)."""
        table = self._m.AttemptItem._get_connection()
        connection = table.connection
        pk, sk = attempt_key(key)
        request = connection.get_operation_kwargs(
            table.table_name,
            pk,
            range_key=sk,
            actions=actions,
            condition=condition,
            return_values="ALL_NEW",
            return_values_on_condition_failure="ALL_OLD",
        )
        try:
            answer = connection.client.update_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False, exc.response.get("Item")
        return True, answer.get("Attributes")


def _float(item: dict[str, Any] | None, name: str) -> float | None:
    value = (item or {}).get(name)
    return float(value["N"]) if value and "N" in value else None


def _number(item: dict[str, Any] | None, name: str) -> int:
    value = _float(item, name)
    return int(value) if value is not None else 0

"""DynamoDB implementations of the repository ports (see ``models.py`` for key patterns).

Single use and uniqueness rest on DynamoDB conditions, never on read-then-write in code:
a conditional delete or a transaction decides who wins, so the answers stay right under
concurrent requests (SPEC §3). One module per port; this one names them together.
"""

from chalicelib.adapters.dynamodb.accounts import DynamoAccountRepository
from chalicelib.adapters.dynamodb.challenges import DynamoChallengeRepository
from chalicelib.adapters.dynamodb.esep import DynamoEsepRepository
from chalicelib.adapters.dynamodb.flows import DynamoFlowRepository
from chalicelib.adapters.dynamodb.sessions import DynamoSessionRepository
from chalicelib.adapters.dynamodb.tickets import DynamoTicketRepository

__all__ = [
    "DynamoAccountRepository",
    "DynamoChallengeRepository",
    "DynamoEsepRepository",
    "DynamoFlowRepository",
    "DynamoSessionRepository",
    "DynamoTicketRepository",
]

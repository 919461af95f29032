"""The SQLite ledger: the schema and its migrations, the one writer, the reader."""

from engine.ledger.errors import LedgerError
from engine.ledger.reader import AccountState, LedgerReader, Recorded
from engine.ledger.schema import SCHEMA_VERSION
from engine.ledger.writer import SqliteLedger

__all__ = [
    "SCHEMA_VERSION",
    "AccountState",
    "LedgerError",
    "LedgerReader",
    "Recorded",
    "SqliteLedger",
]

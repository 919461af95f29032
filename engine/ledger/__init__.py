"""The SQLite ledger: one writer, readers, schema migrations."""

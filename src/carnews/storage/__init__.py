"""Storage: the data model, the database connection and its migrations."""

from carnews.storage import accounts as _accounts  # registers the editors' tables on Base
from carnews.storage.database import Database, open_database

__all__ = ["Database", "open_database"]
del _accounts

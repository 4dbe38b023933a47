"""Storage: the data model, the database connection and its migrations."""

from carnews.storage.database import Database, open_database

__all__ = ["Database", "open_database"]

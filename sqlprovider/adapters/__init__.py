"""The ways tools reach the engine: the DB-API module, the SQLAlchemy dialect and snapshot files."""

"""Database access: metadata conventions, the engine, the session dependency, shared tables."""

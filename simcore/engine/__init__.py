"""The engine: the four components and session_data."""

"""Results: recording, tables, the manifest and the report."""

"""The data steward's file import: read (CSV/.xlsx, any encoding), map columns, standardise,
validate, match and record lineage. ``services.import_file`` is the entry point."""

"""Tracking: the Segment-compatible event API, the Activity timeline, identity resolution on
ingest and the rollups that pages read."""

"""Cross-document consistency: correlation keys, views of each kind's record, and the XDOC checks."""

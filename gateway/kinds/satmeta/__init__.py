"""SAT's CFDI metadata files (bulk download) and the cancellation notices they give rise to."""

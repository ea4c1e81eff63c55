"""ZIP archives of documents: the ``zip`` container kind, its safe unpacking and its ``max_container_*`` limits."""

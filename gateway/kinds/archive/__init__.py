"""ZIP archives of documents: the ``zip`` container kind, its safe unpacking and its ``[archives]`` limits."""

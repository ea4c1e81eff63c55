"""Demo and test-data generators, kept out of the product: only the CLI (``demo``, ``receiver``) imports this.

``workspace`` builds the ``immex-gateway demo`` workspace, ``correlation_workspace`` its correlation month
(``scenario``), ``receiver`` is the reference inventory API, and ``generate`` makes CFDIs, COVEs and pedimentos
that look like the real ones. Tests and benchmarks may import it; ``tests/test_import_contracts.py`` checks no
product module does.
"""

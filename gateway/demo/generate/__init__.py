"""Generators of realistic documents per kind (CFDI, COVE, pedimento) for the demo, tests and benchmarks."""

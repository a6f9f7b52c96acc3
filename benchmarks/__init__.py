"""Benchmarks of the models, the served app and training (each a script: ``python benchmarks/benchmark.py``)."""

"""The engine: run configuration, model assembly, training, evaluation, protocols."""

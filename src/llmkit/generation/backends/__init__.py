"""Backends: transformers (in-process), llamacpp (GGUF, optional extra), openai (any compatible server)."""

"""Embedding, encoder and head modules, and the Lightning module that ties them together."""

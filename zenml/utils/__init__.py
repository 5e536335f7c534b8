"""Core utilities shared by every layer: hashing, imports, JSON values, git, typing checks."""

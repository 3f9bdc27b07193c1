"""The base layer every other one may import: configs, user-facing errors, atomic writes, seeding, checkpoints."""

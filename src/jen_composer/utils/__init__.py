"""Small helpers shared by every layer (seeding, atomic writes)."""

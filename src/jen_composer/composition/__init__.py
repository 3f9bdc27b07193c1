"""composition layer."""

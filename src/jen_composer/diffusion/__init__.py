"""diffusion layer."""

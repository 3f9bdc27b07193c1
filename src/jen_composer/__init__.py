"""jen-composer: multi-track latent diffusion for music (JEN-1 Composer, reimplemented)."""

__version__ = "0.1.0"
TRACKS: tuple[str, ...] = ("bass", "drums", "instrument", "melody")

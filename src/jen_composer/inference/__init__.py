"""From a trained checkpoint to stems: the Engine protocol, ComposerPipeline and writing stems (never imports training)."""

"""The offline prompt-adherence probe: a small classifier of genre, key, tempo class and instrument
family trained on the rendered benchmark's real training stems and mixes (``features`` -> ``model``;
``train`` builds it, ``jen-composer probe-train`` runs it). See docs/evaluation.md."""

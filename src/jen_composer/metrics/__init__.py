"""metrics layer: CLAP score, FAD, music-coherence metrics, RPR tooling and report writers.

Modules (imported directly; this package imports nothing heavy on its own):
``clap`` (ClapScorer backends), ``clap_score`` (torchmetrics ClapScore / MultiTrackClapScore),
``fad``, ``coherence``, ``rpr`` (listening test + RPR), ``report`` (JSON / Markdown / PNG),
``audio_folder`` + ``evaluate_audio`` (score a folder of audio), ``separation`` (Demucs),
``synthetic`` (known-answer stems for validating the metrics). See docs/evaluation.md.
"""

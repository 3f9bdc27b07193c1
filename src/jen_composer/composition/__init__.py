"""Co-composition (Algorithm 1): sessions with persistence and undo, rounds, replay, audio import."""

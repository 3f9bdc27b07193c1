"""studio layer: the browser front end of co-composition sessions (FastAPI + one static page)."""

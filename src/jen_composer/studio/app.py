"""The studio's HTTP API and static page (FastAPI). See docs/studio.md for the routes.

Long operations (generate, regenerate, re-imagine, region) return a job id at once and run on a
background thread; cheap edits (keep, gain, prompt, undo, import) answer with the new state.
Every user error becomes HTTP 4xx with ``{"detail": "<one line>"}``, which the page shows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from jen_composer.composition.audio import peaks, wav_bytes
from jen_composer.composition.importer import ALLOWED_SUFFIXES
from jen_composer.composition.session import Session
from jen_composer.core.config.composition import CompositionConfig
from jen_composer.core.errors import JenComposerError
from jen_composer.diffusion.settings import SamplerSettings
from jen_composer.inference.engine import Engine
from jen_composer.studio.jobs import JobManager
from jen_composer.studio.registry import SessionRegistry, UnknownSession
from jen_composer.studio.security import HostOriginGuard
from jen_composer.studio.uploads import PayloadTooLarge, read_upload

STATIC = Path(__file__).parent / "static"
NO_STORE = {"Cache-Control": "no-store"}


class NewSession(BaseModel):
    prompt: str = Field(min_length=1, max_length=2000)
    seconds: float | None = None
    seed: int | None = None


class GenerateBody(BaseModel):
    mode: str = Field(default="unkept", pattern="^(all|unkept)$")
    seed: int | None = None


class ReimagineBody(BaseModel):
    track: str
    strength: float
    seed: int | None = None


class RegionBody(BaseModel):
    track: str
    start: float
    end: float
    seed: int | None = None


class KeepBody(BaseModel):
    track: str
    kept: bool


class MixBody(BaseModel):
    track: str
    gain_db: float | None = None
    mute: bool | None = None
    solo: bool | None = None


class PromptBody(BaseModel):
    prompt: str = Field(max_length=2000)


class UndoBody(BaseModel):
    round: int | None = None


def state_json(sid: str, session: Session, jobs: JobManager, bins: int) -> dict[str, Any]:
    """What the page renders: settings, every track's take (hash + waveform), mix, history, busy job."""
    snap = session.snapshot()
    takes = {}
    for track, rnd in snap["takes"].items():
        audio = session.take(track, int(rnd))
        takes[track] = {"round": rnd, "sha256": session.take_sha256_of(track, int(rnd)), "peaks": peaks(audio, bins)}
    rounds = [
        {k: r.get(k) for k in ("index", "op", "prompt", "kept", "generated", "seed", "target", "reimagine", "region")}
        for r in snap["rounds"]
    ]
    active = jobs.active(sid)
    return {
        "id": sid, "prompt": snap["prompt"], "tracks": snap["tracks"], "seconds": snap["seconds"],
        "sample_rate": snap["sample_rate"], "checkpoint": snap["checkpoint"], "settings": snap["settings"],
        "kept": snap["kept"], "takes": takes, "mix": snap["mix"], "rounds": rounds,
        "busy": active[0].id if active else None,
    }


def create_app(engine: Engine, cfg: CompositionConfig | None = None, sessions_root: str | Path | None = None,
               settings: SamplerSettings | None = None) -> FastAPI:
    cfg = cfg or CompositionConfig()
    registry = SessionRegistry(sessions_root or cfg.sessions_root, engine, cfg, settings)
    jobs = JobManager()
    app = FastAPI(title="jen-composer studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(HostOriginGuard, extra_hosts=[cfg.studio.host, *cfg.studio.allowed_hosts])
    app.state.registry, app.state.jobs, app.state.cfg = registry, jobs, cfg

    @app.exception_handler(JenComposerError)
    async def _user_error(_: Request, exc: JenComposerError) -> JSONResponse:
        code = 404 if isinstance(exc, UnknownSession) else 413 if isinstance(exc, PayloadTooLarge) else 400
        return JSONResponse({"detail": str(exc)}, status_code=code)

    def state(sid: str) -> dict[str, Any]:
        return state_json(sid, registry.get(sid), jobs, cfg.studio.peaks)

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")  # 404 for anything not in static/

    @app.get("/api/config")
    def config() -> dict[str, Any]:
        return {"tracks": list(engine.tracks), "sample_rate": engine.sample_rate, "checkpoint": engine.checkpoint,
                "seconds": cfg.seconds, "max_seconds": cfg.max_seconds, "settings": registry.settings.to_dict(), "max_upload_mb": cfg.studio.max_upload_mb,
                "accept": list(ALLOWED_SUFFIXES), "sessions": registry.list()[:20]}

    @app.post("/api/sessions")
    def new_session(body: NewSession) -> dict[str, Any]:
        sid, _ = registry.create(body.prompt, body.seconds, body.seed)
        return state(sid)

    @app.get("/api/sessions/{sid}")
    def get_session(sid: str) -> dict[str, Any]:
        return state(sid)

    def _job(sid: str, kind: str, op: Any) -> dict[str, Any]:
        session = registry.get(sid)
        return jobs.submit(sid, session, kind, op).to_dict()

    @app.post("/api/sessions/{sid}/generate")
    def generate(sid: str, body: GenerateBody) -> dict[str, Any]:
        s = registry.get(sid)
        if body.mode == "all":
            return _job(sid, "generate all", lambda p: s.generate_all(seed=body.seed, progress=p))
        return _job(sid, "regenerate", lambda p: s.regenerate(seed=body.seed, progress=p))

    @app.post("/api/sessions/{sid}/reimagine")
    def reimagine(sid: str, body: ReimagineBody) -> dict[str, Any]:
        s = registry.get(sid)
        return _job(sid, f"re-imagine {body.track}",
                    lambda p: s.reimagine(body.track, body.strength, seed=body.seed, progress=p))

    @app.post("/api/sessions/{sid}/region")
    def region(sid: str, body: RegionBody) -> dict[str, Any]:
        s = registry.get(sid)
        return _job(sid, f"region {body.track}",
                    lambda p: s.regenerate_region(body.track, body.start, body.end, seed=body.seed, progress=p))

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        found = jobs.get(job_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no job {job_id[:40]!r}")
        return found.to_dict()

    @app.post("/api/sessions/{sid}/keep")
    def keep(sid: str, body: KeepBody) -> dict[str, Any]:
        s = registry.get(sid)
        (s.keep if body.kept else s.unkeep)(body.track)
        return state(sid)

    @app.post("/api/sessions/{sid}/mix")
    def mix(sid: str, body: MixBody) -> dict[str, Any]:
        s = registry.get(sid)
        if body.gain_db is not None:
            s.set_gain(body.track, body.gain_db)
        if body.mute is not None:
            s.set_mute(body.track, body.mute)
        if body.solo is not None:
            s.set_solo(body.track, body.solo)
        return state(sid)

    @app.post("/api/sessions/{sid}/prompt")
    def prompt(sid: str, body: PromptBody) -> dict[str, Any]:
        registry.get(sid).set_prompt(body.prompt)
        return state(sid)

    @app.post("/api/sessions/{sid}/settings")
    def settings(sid: str, body: dict[str, Any]) -> dict[str, Any]:
        """Any SamplerSettings field (or alias); unknown names and bad values are a 400."""
        registry.get(sid).set_settings(**body)
        return state(sid)

    @app.post("/api/sessions/{sid}/undo")
    def undo(sid: str, body: UndoBody) -> dict[str, Any]:
        registry.get(sid).undo(body.round)
        return state(sid)

    @app.post("/api/sessions/{sid}/import/{track}")
    async def import_track(sid: str, track: str, request: Request) -> dict[str, Any]:
        session = registry.get(sid)
        if track not in session.tracks:
            raise JenComposerError(f"unknown track '{track[:40]}'")
        name, data = await read_upload(request, cfg.studio.max_upload_mb)
        await run_in_threadpool(session.import_track, track, data, name)
        return state(sid)

    @app.get("/api/sessions/{sid}/tracks/{track}.wav")
    def track_audio(sid: str, track: str) -> Response:
        s = registry.get(sid)
        return Response(wav_bytes(s.take(track), s.sample_rate), media_type="audio/wav", headers=NO_STORE)

    @app.get("/api/sessions/{sid}/mix.wav")
    def mix_audio(sid: str) -> Response:
        s = registry.get(sid)
        return Response(wav_bytes(s.mix(), s.sample_rate), media_type="audio/wav", headers=NO_STORE)

    @app.get("/api/sessions/{sid}/export.zip")
    def export(sid: str) -> Response:
        s = registry.get(sid)
        with tempfile.TemporaryDirectory() as tmp:
            data = s.export_zip(Path(tmp) / "export.zip").read_bytes()
        headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="jen-composer-{sid[:8]}.zip"'}
        return Response(data, media_type="application/zip", headers=headers)

    return app

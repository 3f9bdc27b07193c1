"""`jen-composer studio`: serve the browser studio for co-composition (loopback by default)."""

from __future__ import annotations

import argparse

from jen_composer.core.config.composition import CompositionConfig


def register(sub: argparse._SubParsersAction) -> None:
    d = CompositionConfig()
    p = sub.add_parser("studio", help="serve the browser studio (generate, keep, regenerate, mix, export)")
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--host", default=d.studio.host, help=f"interface to bind (default {d.studio.host}: this machine only)")
    p.add_argument("--port", type=int, default=d.studio.port, help=f"port (default {d.studio.port})")
    p.add_argument("--sessions", default=d.sessions_root, metavar="DIR", help=f"where sessions are saved (default {d.sessions_root})")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests addressed to NAME (e.g. this machine's LAN name with --host 0.0.0.0)")
    p.add_argument("--max-upload-mb", type=float, default=d.studio.max_upload_mb, help="upload size limit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from jen_composer.core.errors import JenComposerError
    from jen_composer.inference.bundle import checkpoint_or_bundle
    from jen_composer.inference.engine import load_engine
    from jen_composer.studio.app import create_app
    from jen_composer.studio.server import serve

    if not 0 < args.port < 65536:
        raise JenComposerError(f"--port must be 1..65535, got {args.port}")
    cfg = CompositionConfig()
    cfg.studio.max_upload_mb = args.max_upload_mb
    cfg.studio.host, cfg.studio.allowed_hosts = args.host, list(args.allow_host)
    engine = load_engine(checkpoint_or_bundle(args.ckpt))
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {args.host}: the studio has no authentication; anyone who can reach it can use it")
    print(f"jen-composer studio on http://{args.host}:{args.port}  (engine: {engine.checkpoint}; Ctrl-C to stop)")
    serve(create_app(engine, cfg, args.sessions), args.host, args.port)
    return 0

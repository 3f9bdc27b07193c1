"""`jen-composer studio`: serve the browser studio for co-composition (loopback by default)."""

from __future__ import annotations

import argparse

from jen_composer.core.config.composition import CompositionConfig


def register(sub: argparse._SubParsersAction) -> None:
    d = CompositionConfig()
    p = sub.add_parser("studio", help="serve the browser studio (generate, keep, regenerate, mix, export)")
    p.add_argument("--ckpt", help="composer checkpoint (default: the bundled weights)")
    p.add_argument("--host", help=f"interface to bind (default {d.studio.host}: this machine only)")
    p.add_argument("--port", type=int, help=f"port (default {d.studio.port})")
    p.add_argument("--sessions", metavar="DIR", help=f"where sessions are saved (default {d.sessions_root})")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests addressed to NAME (e.g. this machine's LAN name with --host 0.0.0.0)")
    p.add_argument("--max-upload-mb", type=float, help="upload size limit")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="composition.* / composer.sampler.* overrides of the checkpoint's config, e.g. composition.seconds=8")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from jen_composer.composition.defaults import session_defaults
    from jen_composer.core.errors import JenComposerError
    from jen_composer.inference.bundle import checkpoint_or_bundle
    from jen_composer.inference.engine import load_engine
    from jen_composer.studio.app import create_app
    from jen_composer.studio.server import serve

    engine = load_engine(checkpoint_or_bundle(args.ckpt))
    defaults = session_defaults(engine.cfg, args.overrides)
    cfg = defaults.composition  # flags given on the command line win over the config
    if engine.cfg is not None:  # the engine windows long takes with these composition.longform settings
        engine.cfg.composition = cfg
    for key, value in (("host", args.host), ("port", args.port), ("max_upload_mb", args.max_upload_mb)):
        if value is not None:
            cfg.studio[key] = value
    if args.allow_host:
        cfg.studio.allowed_hosts = [*cfg.studio.allowed_hosts, *args.allow_host]
    if not 0 < cfg.studio.port < 65536:
        raise JenComposerError(f"--port must be 1..65535, got {cfg.studio.port}")
    host, port = cfg.studio.host, cfg.studio.port
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {host}: the studio has no authentication; anyone who can reach it can use it")
    print(f"jen-composer studio on http://{host}:{port}  (engine: {engine.checkpoint}; Ctrl-C to stop)")
    serve(create_app(engine, cfg, args.sessions or cfg.sessions_root, defaults.sampler), host, port)
    return 0

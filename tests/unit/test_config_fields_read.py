"""Every field of the config schema is read by the library: a field nothing reads fails here.

How "read" is detected (a static scan of ``src/``, so no code path has to run):
- every attribute chain in the source (``self.cfg.evaluation.fad.embedding`` -> ``evaluation``,
  ``fad``, ``embedding``), plus string keys used to read (``x["k"]``, ``getattr(x, "k")``,
  ``x.get("k")``, ``OmegaConf.select(x, "a.b")``);
- a field is read when its name is accessed right after its group's name (``synth.seed``,
  ``evaluation.seed``; ``cfg.seed`` for a root field), so reading one ``seed`` does not vouch for
  the four others. A name bound to a group counts as that group: an argument or variable annotated
  with its dataclass (``cfg: SynthConfig``), or assigned from it (``p = cfg.logger.preview``, then
  ``self.p = p``, or ``ae, data = cfg.autoencoder, cfg.data``);
- reading a dataclass built in code (``SynthConfig().seed``, ``_D = SynthConfig``) reads a schema
  default, not the run's config, and does not count: a field used only as a CLI default is unread.
Dataclass definitions (annotated assignments) and plain string constants (e.g. key lists such as
LOGGING_ONLY_KEYS) are not reads. `ALLOWED` lists fields read by something other than our code,
each with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from omegaconf import DictConfig

from jen_composer.core.config.loader import schema

SRC = Path(__file__).resolve().parents[2] / "src" / "jen_composer"
ROOT_PARENT = "cfg"  # root fields are read as cfg.<leaf>
READ_METHODS = {"get", "select", "pop"}
DEFAULTS = "<schema defaults>"  # a config dataclass built in code: its values never come from a run config

SAMPLER_REASON = "read field by field by diffusion.settings.SamplerSettings.from_config, which mirrors every SamplerConfig field"

# dotted key -> why it is read although no attribute access in src/ names it
ALLOWED: dict[str, str] = {
    "composition.studio.host": "default of `jen-composer studio --host`; read from YAML once `studio` takes the "
                               "composition group (issue #14, restructure)",
    "composition.studio.port": "default of `jen-composer studio --port`; as composition.studio.host",
    "composer.sampler.name": SAMPLER_REASON,
    "composer.sampler.steps": SAMPLER_REASON,
    "composer.sampler.time_grid": SAMPLER_REASON,
    "composer.sampler.text_guidance": SAMPLER_REASON,
    "composer.sampler.stem_guidance": SAMPLER_REASON,
    "composer.sampler.eta": SAMPLER_REASON,
    "composer.sampler.inpaint_resample": SAMPLER_REASON,
    "composer.sampler.logsnr_points": SAMPLER_REASON,
}


def schema_fields(node: DictConfig | None = None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Dotted paths of every leaf field of the typed schema (free-form dicts count as leaves)."""
    node = schema() if node is None else node
    out: list[tuple[str, ...]] = []
    for key in node.keys():
        child = node._get_node(key)
        if isinstance(child, DictConfig) and child._metadata.object_type not in (None, dict):
            out += schema_fields(child, (*prefix, str(key)))
        else:
            out.append((*prefix, str(key)))
    return out


def config_classes(node: DictConfig | None = None, key: str = ROOT_PARENT) -> dict[str, str]:
    """Config dataclass name -> the key it sits under (``UNetConfig`` -> ``unet``)."""
    node = schema() if node is None else node
    out = {node._metadata.object_type.__name__: key}
    for child_key in node.keys():
        child = node._get_node(child_key)
        if isinstance(child, DictConfig) and child._metadata.object_type not in (None, dict):
            out.update(config_classes(child, str(child_key)))
    return out


def _chain(node: ast.AST, classes: dict[str, str]) -> tuple[str, ...]:
    """``a.b.c`` -> ("a", "b", "c"); ``SynthConfig().seed`` or ``SynthConfig.seed`` -> (DEFAULTS, "seed")."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        node = node.func
    if isinstance(node, ast.Name):
        names.append(DEFAULTS if node.id in classes else node.id)
    return tuple(names[::-1])


def _aliases(tree: ast.AST, classes: dict[str, str], groups: set[str]) -> dict[tuple[str, ...], str]:
    """Names bound to a config group: annotated (``cfg: UNetConfig``) or assigned (``p = cfg.logger.preview``)."""
    aliases: dict[tuple[str, ...], str] = {}

    def group_of_annotation(annotation: ast.AST | None) -> str | None:
        text = ast.unparse(annotation) if annotation is not None else ""
        return next((g for c, g in classes.items() if c in text.replace("|", " ").split()), None)

    for _ in range(2):  # a second pass resolves aliases of aliases (self.cfg = cfg)
        for node in ast.walk(tree):
            if isinstance(node, ast.arg) and (g := group_of_annotation(node.annotation)):
                aliases[(node.arg,)] = g
            elif isinstance(node, ast.AnnAssign) and (g := group_of_annotation(node.annotation)):
                aliases[_chain(node.target, classes)] = g
            elif isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
                pairs += [p for t in node.targets if isinstance(t, ast.Tuple) and isinstance(node.value, ast.Tuple)
                          for p in zip(t.elts, node.value.elts)]  # ae, data = cfg.autoencoder, cfg.data
                for target, value in pairs:
                    resolved = _resolve(_chain(value, classes), aliases)
                    if resolved == (DEFAULTS,) or (isinstance(value, ast.Attribute | ast.Name) and resolved[-1:] and resolved[-1] in groups):
                        aliases[_chain(target, classes)] = resolved[-1]  # also _D = SynthConfig() / SynthConfig
    return aliases


def _resolve(chain: tuple[str, ...], aliases: dict[tuple[str, ...], str]) -> tuple[str, ...]:
    for n in range(len(chain), 0, -1):
        if chain[:n] in aliases:
            return (aliases[chain[:n]], *chain[n:])
    return chain


def access_chains(sources: Iterable[str]) -> set[tuple[str, ...]]:
    """Every attribute chain and every string key used to read something, aliases resolved."""
    classes = config_classes()
    groups = set(classes.values())
    chains: set[tuple[str, ...]] = set()
    for text in sources:
        tree = ast.parse(text)
        aliases = _aliases(tree, classes, groups)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):  # writes are not reads; inner
                # nodes of a chain add its prefixes, which is harmless
                chain = _resolve(_chain(node, classes), aliases)
                if chain[:1] != (DEFAULTS,):  # reading a schema default is not reading the run's config
                    chains.add(chain)
            owner, keys = None, []  # string keys: x["k"], getattr(x, "k"), x.get("k"), OmegaConf.select(x, "a.b")
            if isinstance(node, ast.Subscript):
                owner, keys = node.value, [node.slice]
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") and len(node.args) > 1:
                    owner, keys = node.args[0], [node.args[1]]
                elif isinstance(func, ast.Attribute) and func.attr in READ_METHODS:
                    owner, keys = (node.args[0], node.args[1:2]) if func.attr == "select" else (func.value, node.args[:1])
            for key in keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    chains.add((*_resolve(_chain(owner, classes), aliases), *key.value.split(".")))
    return chains


def unread_fields(fields: list[tuple[str, ...]], chains: set[tuple[str, ...]]) -> list[str]:
    pairs = {(c[i], c[i + 1]) for c in chains for i in range(len(c) - 1)}
    unread = []
    for field in fields:
        parent = field[-2] if len(field) > 1 else ROOT_PARENT
        if (parent, field[-1]) not in pairs and ".".join(field) not in ALLOWED:
            unread.append(".".join(field))
    return unread


def _sources() -> list[str]:
    return [p.read_text() for p in sorted(SRC.rglob("*.py"))]


def test_every_schema_field_is_read_somewhere() -> None:
    unread = unread_fields(schema_fields(), access_chains(_sources()))
    assert not unread, f"config fields nothing reads (wire them up or remove them): {unread}"


def test_allow_list_names_real_fields() -> None:
    fields = {".".join(f) for f in schema_fields()}
    assert set(ALLOWED) <= fields, sorted(set(ALLOWED) - fields)


def test_detector_fails_on_an_unread_field() -> None:
    fields = [("seed",), ("evaluation", "seed"), ("data", "synth", "seed"), ("composer", "condition_probability"),
              ("evaluation", "fad_reference"), ("curriculum", "ramp_steps"), ("composition", "seconds"),
              ("logger", "preview", "steps"), ("curriculum", "paper_mix")]
    source = (
        "def f(cfg, c: CurriculumConfig, args):\n"
        "    s = cfg.seed + cfg.data.synth.seed + CompositionConfig().seconds + args.condition_probability\n"
        "    p = cfg.logger.preview\n"
        "    cfg.curriculum.paper_mix = 1.0\n"
        "    return c.ramp_steps, p.steps, cfg.evaluation.get('fad_reference')\n"
    )
    assert unread_fields(fields, access_chains([source])) == [
        "evaluation.seed", "composer.condition_probability", "composition.seconds", "curriculum.paper_mix"]

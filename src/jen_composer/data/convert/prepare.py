"""`jen-composer data prepare --format {slakh2100,musdb18hq,moisesdb,stems}`.

Layouts read (as published):
- Slakh2100: ``<src>/[train|validation|test|omitted]/TrackNNNNN/{metadata.yaml, mix.flac, stems/SNN.flac,
  MIDI/SNN.mid}``; metadata.yaml ``stems: {SNN: {inst_class, is_drum, program_num, audio_rendered}}``.
- MUSDB18-HQ: ``<src>/{train,test}/<Artist - Title>/{mixture,drums,bass,other,vocals}.wav``.
- MoisesDB: ``<src>/[<provider>/]<uuid>/data.json`` + ``<stemName>/<track id>.wav``; data.json
  ``{artist, song, genre, stems: [{stemName, tracks: [{id, extension, trackType}]}]}``.
- stems: ``<src>/<song>/<any>.wav`` + a mapping file ``{track: [glob, ...]}`` (``<src>/mapping.json``
  or ``--mapping``); an optional ``<src>/<song>/meta.json`` supplies tags and caption.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from jen_composer.core.errors import DataError, one_line
from jen_composer.core.io import atomic_write_json
from jen_composer.data.audio import AUDIO_EXTENSIONS
from jen_composer.data.convert.common import TRACKS, ConvertSummary, safe_id, write_song
from jen_composer.data.schema import META_FILE, SongMeta, parse_meta

log = logging.getLogger(__name__)
Song = tuple[str, dict[str, list[Path]], SongMeta, Path | None, str | None]  # id, sources, meta, mix, split

SLAKH_CLASSES = {"Bass": "bass", "Drums": "drums", "Synth Lead": "melody", "Reed": "melody", "Pipe": "melody"}
SLAKH_SPLITS = {"train": "train", "validation": "val", "test": "test"}
MOISES_STEMS = {"bass": "bass", "drums": "drums", "percussion": "drums", "vocals": "melody"}


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, OSError) as exc:
        raise DataError(f"{path}: cannot parse: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping")
    return data


def _slakh(src: Path, mapping: dict | None) -> Iterator[Song]:
    for meta_path in sorted(src.rglob("metadata.yaml")):
        folder = meta_path.parent
        stems = _load_yaml(meta_path).get("stems")
        if not isinstance(stems, dict):
            raise DataError(f"{meta_path}: no 'stems' mapping")
        sources: dict[str, list[Path]] = {}
        names = []
        for stem_id, info in sorted(stems.items()):
            audio = folder / "stems" / f"{stem_id}.flac"
            if not info.get("audio_rendered", True) or not audio.is_file():
                continue
            track = "drums" if info.get("is_drum") else SLAKH_CLASSES.get(str(info.get("inst_class")), "instrument")
            sources.setdefault(track, []).append(audio)
            names.append(str(info.get("midi_program_name") or info.get("inst_class", "")).lower())
        split = SLAKH_SPLITS.get(folder.parent.name)
        instruments = sorted(set(n for n in names if n))
        meta = SongMeta(tags={"instruments": instruments}, caption=f"Slakh2100 {folder.name}: " + ", ".join(instruments))
        mix = folder / "mix.flac"
        yield folder.name, sources, meta, mix if mix.is_file() else None, split


def _musdb(src: Path, mapping: dict | None) -> Iterator[Song]:
    names = {"bass": "bass", "drums": "drums", "vocals": "melody", "other": "instrument"}
    for mixture in sorted(src.rglob("mixture.wav")):
        folder = mixture.parent
        sources = {track: [folder / f"{stem}.wav"] for stem, track in names.items() if (folder / f"{stem}.wav").is_file()}
        missing = [s for s in names if not (folder / f"{s}.wav").is_file()]
        if missing:
            raise DataError(f"MUSDB18-HQ song '{folder.name}': missing {', '.join(m + '.wav' for m in missing)} in {folder}")
        split = "test" if folder.parent.name == "test" else "train"
        meta = SongMeta(tags={"instruments": ["bass", "drums", "vocals", "other"]}, caption=folder.name)
        yield safe_id(folder.name), sources, meta, mixture, split


def _moisesdb(src: Path, mapping: dict | None) -> Iterator[Song]:
    for data_path in sorted(src.rglob("data.json")):
        folder = data_path.parent
        try:
            data = json.loads(data_path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{data_path}: invalid JSON: {exc}") from None
        sources: dict[str, list[Path]] = {}
        kinds = []
        for stem in data.get("stems", []):
            name = str(stem.get("stemName", ""))
            track = MOISES_STEMS.get(name, "instrument")
            for t in stem.get("tracks", []):
                path = folder / name / f"{t['id']}.{t.get('extension', 'wav')}"
                if not path.is_file():
                    raise DataError(f"MoisesDB song '{folder.name}': {data_path} lists {path}, which does not exist")
                sources.setdefault(track, []).append(path)
                kinds.append(str(t.get("trackType", name)).replace("_", " "))
        tags = {"instruments": sorted(set(kinds))}
        if data.get("genre"):
            tags["genre"] = str(data["genre"]).lower()
        caption = f"{data.get('song', folder.name)} by {data.get('artist', 'unknown')}"
        yield folder.name, sources, SongMeta(tags=tags, caption=caption), None, None


def _stems(src: Path, mapping: dict | None) -> Iterator[Song]:
    if mapping is None:
        default = src / "mapping.json"
        if not default.is_file():
            raise DataError(f"--format stems needs a mapping file ({default} or --mapping FILE) like "
                            '{"bass": ["bass*.wav"], "drums": ["drums*.wav", "perc*.wav"], ...}')
        mapping = _read_mapping(default)
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        files = [f for f in sorted(folder.iterdir()) if f.suffix.lower() in AUDIO_EXTENSIONS]
        sources: dict[str, list[Path]] = {}
        for f in files:
            tracks = [t for t, globs in mapping.items() if any(f.match(g) for g in globs)]
            if not tracks:
                log.warning("song '%s': %s matches no track in the mapping; ignored", folder.name, f.name)
                continue
            sources.setdefault(tracks[0], []).append(f)
        meta = SongMeta()
        if (folder / META_FILE).is_file():
            try:
                meta = parse_meta(json.loads((folder / META_FILE).read_text()), folder.name, folder / META_FILE, list(TRACKS))
            except json.JSONDecodeError as exc:
                raise DataError(f"song '{folder.name}': {folder / META_FILE}: invalid JSON: {exc}") from None
        yield safe_id(folder.name), sources, meta, None, None


def _read_mapping(path: Path) -> dict[str, list[str]]:
    data = _load_yaml(path)  # JSON is YAML
    bad = [k for k in data if k not in TRACKS]
    if bad:
        raise DataError(f"{path}: unknown track(s) {bad}; tracks are {', '.join(TRACKS)}")
    return {k: [v] if isinstance(v, str) else list(v) for k, v in data.items()}


FORMATS: dict[str, Callable[[Path, dict | None], Iterator[Song]]] = {
    "slakh2100": _slakh, "musdb18hq": _musdb, "moisesdb": _moisesdb, "stems": _stems,
}


def prepare_dataset(
    fmt: str, src: str | Path, out: str | Path, sample_rate: int, channels: int,
    mapping: str | Path | None = None, on_bad_input: str = "error", progress: bool = True,
) -> ConvertSummary:
    """Convert ``src`` (in ``fmt``'s published layout) into ``out`` in the canonical layout.

    Official splits (Slakh2100, MUSDB18-HQ) are written to ``out/splits.json`` as a user manifest.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown format '{fmt}'; choose from {', '.join(FORMATS)}")
    src_path, out_path = Path(src), Path(out)
    if not src_path.is_dir():
        raise DataError(f"source folder {src_path} does not exist")
    maps = _read_mapping(Path(mapping)) if mapping else None
    summary = ConvertSummary()
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    from tqdm.auto import tqdm

    songs = FORMATS[fmt](src_path, maps)
    for song_id, sources, meta, mix, split in tqdm(songs, desc=f"prepare {fmt}", unit="song", disable=not progress):
        try:
            write_song(out_path, song_id, sources, sample_rate, channels, meta, mix, summary.notes)
        except DataError as exc:
            if on_bad_input == "error":
                raise
            summary.skipped[song_id] = str(exc)
            log.warning("skipping %s", exc)
            continue
        summary.written.append(song_id)
        if split is not None:
            splits[split].append(song_id)
    if not summary.written and not summary.skipped:
        raise DataError(f"no {fmt} songs found under {src_path} (see `jen-composer data prepare --help` for the layout)")
    if any(splits.values()):
        atomic_write_json(out_path / "splits.json", {**splits, "source": f"{fmt} official split"})
    return summary

"""`jen-composer data render-midi`: any General MIDI file -> four rendered stems (Slakh-style recipe).

Channel 10 (drums) -> drums; bass programs (32-39) -> bass; the top line -> melody (a lead family:
synth lead, reed, pipe, brass, or else the highest, least polyphonic pitched part); the rest ->
instrument.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pretty_midi

from jen_composer.core.errors import DataError, one_line
from jen_composer.core.io import atomic_dir
from jen_composer.data.audio import fit_peak, to_channels, write_audio
from jen_composer.data.convert.common import TRACKS, ConvertSummary, safe_id
from jen_composer.data.schema import SongMeta, write_meta
from jen_composer.data.synth.render import STEM_PEAK, check_soundfont, fit_gains, render_part
from jen_composer.data.synth.theory import NOTE_NAMES

log = logging.getLogger(__name__)
LEAD_PROGRAMS = set(range(80, 88)) | set(range(64, 80)) | set(range(56, 64))


def _polyphony(inst: pretty_midi.Instrument) -> float:
    """Mean number of notes sounding at each note onset."""
    starts = np.array([n.start for n in inst.notes])
    ends = np.array([n.end for n in inst.notes])
    return float(np.mean([np.sum((starts <= s) & (ends > s)) for s in starts])) if len(starts) else 0.0


def assign_tracks(pm: pretty_midi.PrettyMIDI) -> dict[str, list[pretty_midi.Instrument]]:
    """Group the file's instruments onto the four tracks."""
    groups: dict[str, list[pretty_midi.Instrument]] = {t: [] for t in TRACKS}
    pitched = []
    for inst in pm.instruments:
        if not inst.notes:
            continue
        if inst.is_drum:
            groups["drums"].append(inst)
        elif 32 <= inst.program <= 39:
            groups["bass"].append(inst)
        else:
            pitched.append(inst)
    if pitched:
        leads = [i for i in pitched if i.program in LEAD_PROGRAMS] or pitched

        def score(i: pretty_midi.Instrument) -> float:
            return float(np.mean([n.pitch for n in i.notes])) - 6.0 * _polyphony(i)

        melody = max(leads, key=score) if len(pitched) > 1 or leads is not pitched else None
        for inst in pitched:
            groups["melody" if inst is melody else "instrument"].append(inst)
    return groups


def render_track(parts: list[np.ndarray], samples: int) -> tuple[np.ndarray, str]:
    """Sum a track's rendered parts, scaled back to STEM_PEAK if the sum is louder (never clipped).

    Returns the stem and a note saying what was scaled ("" when nothing was).
    """
    if not parts:
        return np.zeros(samples, dtype=np.float32), ""
    stem, gain = fit_peak(np.sum(parts, axis=0), STEM_PEAK)
    if gain == 1.0:
        return stem, ""
    return stem, f"{len(parts)} parts summed to peak {STEM_PEAK / gain:.2f}; scaled by {20 * np.log10(gain):.1f} dB"


def render_midi_file(path: Path, out: Path, song_id: str, sample_rate: int, channels: int, soundfont: str,
                     notes: list[str] | None = None) -> None:
    """Render one MIDI file into ``out/song_id`` (written whole or not at all)."""
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:
        raise DataError(f"song '{song_id}': cannot parse MIDI {path} (truncated or not MIDI): {one_line(exc)}") from None
    samples = int(np.ceil(pm.get_end_time() * sample_rate))
    if samples == 0:
        raise DataError(f"song '{song_id}': {path} has no notes")
    groups = assign_tracks(pm)
    stems = {}
    for track in TRACKS:
        stems[track], note = render_track([render_part(i, sample_rate, samples, soundfont) for i in groups[track]],
                                          samples)
        if note and notes is not None:
            notes.append(f"song '{song_id}': {track}.wav: {note}")
    gains = fit_gains(stems, {t: 1.0 for t in TRACKS}, 0.95)
    instruments = sorted({pretty_midi.program_to_instrument_name(i.program).lower() if not i.is_drum else "drums"
                          for g in groups.values() for i in g})
    tempo_times, tempi = pm.get_tempo_changes()
    tags: dict = {"instruments": instruments}
    labels: dict = {"beats": [round(b, 6) for b in pm.get_beats().tolist()],
                    "downbeats": [round(b, 6) for b in pm.get_downbeats().tolist()]}
    if len(tempi):
        tags["tempo"] = labels["tempo"] = round(float(tempi[0]))
    if pm.key_signature_changes:
        k = pm.key_signature_changes[0].key_number
        tags["key"] = labels["key"] = f"{NOTE_NAMES[k % 12]} {'major' if k < 12 else 'minor'}"
    meta = SongMeta(tags=tags, caption=f"{path.stem}: " + ", ".join(instruments), gains=gains, labels=labels)
    with atomic_dir(out / song_id) as folder:
        for t in TRACKS:
            write_audio(folder / f"{t}.wav", to_channels(stems[t][None], channels), sample_rate)
        write_meta(folder, meta)


def render_midi_folder(midi_dir: str | Path, out: str | Path, sample_rate: int, channels: int, soundfont: str,
                       on_bad_input: str = "error", progress: bool = True) -> ConvertSummary:
    src = Path(midi_dir)
    files = sorted(p for p in src.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise DataError(f"no .mid/.midi files under {src}")
    check_soundfont(soundfont)
    summary = ConvertSummary()
    from tqdm.auto import tqdm

    for path in tqdm(files, desc="render-midi", unit="file", disable=not progress):
        song_id = safe_id(str(path.relative_to(src).with_suffix("")))
        try:
            render_midi_file(path, Path(out), song_id, sample_rate, channels, soundfont, summary.notes)
            summary.written.append(song_id)
        except DataError as exc:
            if on_bad_input == "error":
                raise
            summary.skipped[song_id] = str(exc)
            log.warning("skipping %s", exc)
    return summary

"""The demo generates over songs its bundled weights never saw, and judges each score by the controls
it can notice; the bundle's manifest records what its runs trained and validated on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from jen_composer.core.errors import DataError
from jen_composer.inference.bundle import caption_fingerprint, seen_songs, songs_seen_by, songs_seen_in
from jen_composer.workflows.demo_samples import held_out_render, held_out_songs
from jen_composer.workflows.demo_scores import (
    MODEL_CONTROLS,
    PASS,
    SIGNAL_CONTROLS,
    required_controls,
    score_rows,
)

CFG = OmegaConf.create({"data": {"split_seed": 0, "test_fraction": 0.2, "val_fraction": 0.1}})


def _dataset(root: Path, captions: dict[str, str], splits: dict[str, list[str]]) -> Path:
    for song, caption in captions.items():
        (root / song).mkdir(parents=True)
        (root / song / "meta.json").write_text(json.dumps({"caption": caption}))
    (root / "splits.json").write_text(json.dumps(splits))  # a user-written split: followed as written
    return root


def test_seen_songs_are_the_train_and_val_songs_with_their_caption_fingerprints(tmp_path: Path) -> None:
    bench = _dataset(tmp_path / "bench", {"a": "funk in C", "b": "pop in D", "c": "jazz in E", "d": "rock in F"},
                     {"train": ["a", "b"], "val": ["c"], "test": ["d"]})
    data = lambda root: {"root": str(root), "source": "audio", "split_seed": 0, "test_fraction": 0.2, "val_fraction": 0.1}  # noqa: E731
    assert songs_seen_in(data(bench)) == {s: [caption_fingerprint(c)] for s, c in [("a", "funk in C"), ("b", "pop in D"),
                                                                                  ("c", "jazz in E")]}
    sub = _dataset(tmp_path / "sub", {"a": "funk in C, again", "e": "soul in G"}, {"train": ["a", "e"], "val": [], "test": []})
    both = songs_seen_by([data(bench), data(sub)]) or {}
    assert set(both) == {"a", "b", "c", "e"} and len(both["a"]) == 2  # one id, two different songs: both fingerprints
    assert songs_seen_by([data(bench), data(tmp_path / "gone")]) is None  # a dataset not on this machine: unknown
    assert songs_seen_by([data(bench), {}]) is None  # a run whose data config is unknown
    assert seen_songs({}) is None and seen_songs({"seen_songs": {"a": ["x"]}}) == {"a": ["x"]}


def test_the_demo_picks_songs_unseen_by_the_weights_test_split_first(tmp_path: Path) -> None:
    captions = {f"song{i}": f"caption {i}" for i in range(6)}
    demo = _dataset(tmp_path / "demo", captions, {"train": ["song0", "song1", "song2"], "val": ["song3"],
                                                  "test": ["song4", "song5"]})
    seen = {"song4": [caption_fingerprint("caption 4")],  # the same song: seen
            "song1": [caption_fingerprint("another render of song1")], "song0": [caption_fingerprint("caption 0")]}
    songs, note = held_out_songs(demo, CFG, seen)
    assert songs == ["song5", "song1", "song2", "song3"] and "never trained" in note  # song1: same id, other music
    assert held_out_songs(demo, CFG, None)[0] == ["song4", "song5"]  # no record: the rendered test split
    everything = {s: [caption_fingerprint(c)] for s, c in captions.items() if s != "song5"}
    assert held_out_songs(demo, CFG, everything)[0] == ["song5"]
    with pytest.raises(DataError, match=r"demo: the demo needs at least 2 songs held out from the bundled weights, found 1"):
        held_out_render(demo, CFG, everything, 3)  # not a render it can extend: one song is too few


def test_each_score_must_beat_the_model_controls_and_the_signal_controls_it_can_notice() -> None:
    model = list(MODEL_CONTROLS.values())
    assert required_controls("harmonic_chords") == [*model, SIGNAL_CONTROLS["tritone"], SIGNAL_CONTROLS["noise"]]
    assert required_controls("harmonic_stems") == required_controls("harmonic_chords")
    assert required_controls("rhythm_drums") == [*model, SIGNAL_CONTROLS["half_beat"], SIGNAL_CONTROLS["noise"]]
    assert required_controls("rhythm_grid") == required_controls("rhythm_drums")


def test_a_rows_means_are_over_the_songs_where_every_required_column_has_a_value() -> None:
    nan = float("nan")
    names = ["generated", *MODEL_CONTROLS.values(), *SIGNAL_CONTROLS.values()]

    def song(gen: float, tritone: float, half_beat: float) -> dict[str, dict[str, float]]:
        out = {n: {"harmonic_chords/melody": 0.1} for n in names}
        out["generated"]["harmonic_chords/melody"] = gen
        out[SIGNAL_CONTROLS["tritone"]]["harmonic_chords/melody"] = tritone
        out[SIGNAL_CONTROLS["half_beat"]]["harmonic_chords/melody"] = half_beat
        return out

    rows = score_rows([song(0.5, 0.2, 0.9), song(0.9, nan, 0.9)], ["melody"])
    (row,) = rows
    assert row["songs"] == 1 and row["generated"] == 0.5  # song 2 lacks a required control: left out of every mean
    assert row[PASS] == "yes"  # half a beat late (0.9) is shown, not required of a pitch score
    rows = score_rows([song(0.5, nan, 0.1), song(0.6, nan, 0.1)], ["melody"])
    assert rows[0]["songs"] == 0 and rows[0][PASS] == "missing"
    assert score_rows([song(0.05, 0.2, 0.0)], ["melody"])[0][PASS] == "no"


def test_a_score_not_validated_for_a_track_is_shown_but_not_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pytest

    from jen_composer.core.errors import DataError
    from jen_composer.workflows.demo_scores import NOT_VALIDATED, counted, summary, track_validity

    names = ["generated", *MODEL_CONTROLS.values(), *SIGNAL_CONTROLS.values()]
    song = {n: {"rhythm_grid/instrument": 0.0, "rhythm_grid/melody": 0.0} for n in names}
    song["generated"] = {"rhythm_grid/instrument": 0.5, "rhythm_grid/melody": -0.5}
    rows = score_rows([song], ["instrument", "melody"], {"rhythm_grid/instrument": False, "rhythm_grid/melody": True})
    verdicts = {r["track"]: r[PASS] for r in rows}
    assert verdicts == {"instrument": NOT_VALIDATED, "melody": "no"}  # even a "win" does not count when not valid
    assert counted(rows) == [rows[1]]
    assert summary(rows) == "0 of 1 validated scores beat their controls (1 more shown, not validated for their track)"
    assert [r[PASS] for r in score_rows([song], ["instrument"], {})] == ["yes"]  # not listed: required
    path = tmp_path / "validity.json"
    path.write_text(json.dumps({"valid": {"joint": {}}}))
    with pytest.raises(DataError, match="validity.json: no 'valid.conditional'"):
        track_validity(path)


def test_the_shipped_validity_record_covers_every_row_the_demo_scores() -> None:
    """Every score/track the demo can print is in the record (none counts as valid by omission), and the
    record says what validate-scores found: the melody's rhythmic fits valid, the chord instrument's not."""
    from jen_composer.workflows.demo_scores import SCORES, track_validity

    valid = track_validity()
    assert {f"{s}/{t}" for s in SCORES for t in ("instrument", "melody")} <= set(valid)
    assert valid["rhythm_grid/melody"] and valid["rhythm_drums/melody"] and valid["harmonic_chords/instrument"]
    assert not valid["rhythm_grid/instrument"] and not valid["rhythm_drums/instrument"]


def test_song_stems_scale_by_the_songs_gains_and_default_to_unity(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Kept stems only (the meta holds gains of every track) and a song without gains (valid by the schema)."""
    import json

    import numpy as np
    import soundfile as sf

    from jen_composer.workflows.demo_samples import song_stems

    for song, meta in (("a", {"gains": {"drums": 0.5, "bass": 2.0, "melody": 1.0}}), ("b", {})):
        (tmp_path / song).mkdir()
        (tmp_path / song / "meta.json").write_text(json.dumps({"caption": "x", "tags": {}, **meta}))
        for track in ("drums", "bass"):
            sf.write(tmp_path / song / f"{track}.wav", np.full(100, 0.25, dtype=np.float32), 16000)
    a = song_stems(tmp_path, "a", ["drums", "bass"], 50, 16000)
    assert a["drums"].shape == (1, 50) and np.allclose(a["drums"], 0.125) and np.allclose(a["bass"], 0.5)
    assert np.allclose(song_stems(tmp_path, "b", ["drums"], 50, 16000)["drums"], 0.25)


def test_the_demo_renders_more_held_out_songs_of_its_render_when_its_own_hold_too_few(tmp_path: Path) -> None:
    """Song i of a render is the same music wherever it is rendered: the demo's own unseen songs and the
    next ids the weights never list are rendered beside the demo's data, all of them listed as test songs."""
    from jen_composer.core.config.data import DataConfig
    from jen_composer.data.synth import synth_dataset
    from jen_composer.workflows.demo_samples import song_meta

    data = OmegaConf.structured(DataConfig)
    data.synth.songs, data.synth.seconds = 4, 1.0
    cfg = OmegaConf.create({"data": data})
    root = tmp_path / "synth"
    synth_dataset(root, data.synth, int(data.sample_rate), int(data.channels), progress=False)
    fingerprint = {s: caption_fingerprint(song_meta(root, s)["caption"]) for s in ("song0000", "song0001", "song0002", "song0003")}
    seen = {"song0000": [fingerprint["song0000"]], "song0001": [fingerprint["song0001"]],
            "song0002": [fingerprint["song0002"]], "song0005": ["another render's"]}
    lines: list[str] = []
    folder, songs, note = held_out_render(root, cfg, seen, 3, lines.append)
    assert folder == tmp_path / "synth-heldout" and songs == ["song0003", "song0004", "song0006"]  # song0005: listed, skipped
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == songs
    assert json.loads((folder / "splits.json").read_text()) == {"train": [], "val": [], "test": songs}
    assert caption_fingerprint(song_meta(folder, "song0003")["caption"]) == fingerprint["song0003"]  # the same song
    assert "2 rendered beyond the demo's own 4 songs" in note and "rendered 3 held-out songs" in lines[0]
    fewer = {k: v for k, v in seen.items() if k != "song0002"}
    assert held_out_render(root, cfg, fewer, 2)[:2] == (root, ["song0002", "song0003"])  # enough in its own render
    with pytest.raises(DataError, match="found 1"):  # nothing recorded: the render's own test split only (1 song of 4)
        held_out_render(root, cfg, None, 3)
    (root / "synth.json").unlink()
    assert held_out_render(root, cfg, fewer, 3)[:2] == (root, ["song0002", "song0003"])  # not a render of this config: as it is

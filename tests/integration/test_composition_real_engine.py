"""A co-composition session on a real (tiny) checkpoint: the scripted loop, exact replay, kept stems intact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from jen_composer.composition.replay import replay
from jen_composer.composition.session import Session
from jen_composer.inference.engine import load_engine


def test_scripted_session_on_tiny_checkpoint_replays_exactly(tiny_composer_run, tmp_path: Path) -> None:
    _, result = tiny_composer_run
    engine = load_engine(str(result.last_checkpoint))
    s = Session.create(tmp_path / "session", engine, "funk with slap bass and clavinet", seconds=1.0, seed=5)
    s.set_settings(steps=3)
    s.generate_all()
    s.keep("drums", "bass")
    kept_before = {t: s.take_sha256()[t] for t in ("drums", "bass")}
    s.regenerate()
    assert {t: s.take_sha256()[t] for t in ("drums", "bass")} == kept_before  # kept stems untouched
    lead = tmp_path / "lead.wav"
    sf.write(lead, (0.2 * np.sin(np.linspace(0, 600, 22050))).astype(np.float32), 22050)  # other rate: resampled
    s.import_track("melody", lead)
    s.regenerate()
    s.reimagine("bass", 0.5)
    before = s.take("bass").copy()
    s.regenerate_region("bass", 0.25, 0.5)
    after = s.take("bass")
    outside = np.r_[0 : int(0.25 * s.sample_rate) - 1, int(0.5 * s.sample_rate) + 1 : s.num_samples]
    assert np.array_equal(before[:, outside], after[:, outside]) and not np.array_equal(before, after)
    s.undo(to_round=3)
    out = s.export(tmp_path / "export")
    lengths = {sf.info(p).frames for p in Path(out).glob("*.wav")}
    assert lengths == {s.num_samples}  # aligned, equal length
    report = replay(s.root, load_engine(str(result.last_checkpoint)))
    assert report.identical, report.mismatches

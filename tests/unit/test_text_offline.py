"""Offline, a hub name for the text encoder fails in one line that says how to get a local folder."""

from __future__ import annotations

import pytest

from jen_composer.core.config import compose
from jen_composer.core.errors import CheckpointError
from jen_composer.models.text import build_text_encoder


def test_offline_flan_t5_base_names_the_save_pretrained_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = compose(None, ["composer.text.kind=flan_t5", "composer.text.name_or_path=google/flan-t5-base"]).composer.text
    with pytest.raises(CheckpointError) as err:
        build_text_encoder(cfg)
    message = str(err.value)
    assert "\n" not in message and "google/flan-t5-base" in message
    assert "T5EncoderModel.from_pretrained('google/flan-t5-base').save_pretrained('models/flan-t5-base')" in message
    assert "AutoTokenizer.from_pretrained('google/flan-t5-base').save_pretrained('models/flan-t5-base')" in message
    assert "composer.text.name_or_path=models/flan-t5-base" in message

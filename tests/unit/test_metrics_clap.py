"""CLAP plumbing on random weights: the metric equals laion-clap's own computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from jen_composer.core.config.evaluation import ClapConfig
from jen_composer.core.errors import CheckpointError, ConfigError
from jen_composer.metrics.clap import (
    CLAP_SAMPLE_RATE,
    LaionClapScorer,
    TransformersClapScorer,
    build_clap_scorer,
    prepare_audio,
    require_clap_scorer,
)
from jen_composer.metrics.clap.laion import laion_tokenizer
from jen_composer.metrics.clap.tokenizers import byt5_tokenizer
from jen_composer.metrics.clap_score import ClapScore, MultiTrackClapScore
from tests.fakes.clap import build_random_laion_clap

TEXTS = ["slow jazz with upright bass", "fast techno with heavy drums"]


@pytest.fixture(scope="module")
def clap_module():
    return build_random_laion_clap("HTSAT-tiny", text_layers=1, seed=0)


@pytest.fixture(scope="module")
def scorer(clap_module) -> LaionClapScorer:
    return LaionClapScorer(clap_module, byt5_tokenizer(), batch_size=2, max_seconds=10.0)


def _audio(n: int, seconds: float, sr: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn(n, int(seconds * sr), generator=g)


def test_metric_equals_direct_laion_computation(clap_module, scorer) -> None:
    audio = _audio(2, 1.0, CLAP_SAMPLE_RATE)
    a = clap_module.get_audio_embedding_from_data(audio.numpy(), use_tensor=False)
    t = clap_module.get_text_embedding(TEXTS, tokenizer=byt5_tokenizer(), use_tensor=False)
    direct = (a * t).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(t, axis=-1))
    metric = ClapScore(scorer, sample_rate=CLAP_SAMPLE_RATE)
    metric.update(audio[:1], TEXTS[:1])
    metric.update(audio[1:], TEXTS[1:])
    assert metric.count.item() == 2
    assert metric.compute().item() == pytest.approx(float(direct.mean()), abs=1e-5)
    single = ClapScore(scorer, sample_rate=CLAP_SAMPLE_RATE)
    single.update(audio[:1], TEXTS[:1])
    assert single.compute().item() == pytest.approx(float(direct[0]), abs=1e-5)


def test_text_embeddings_depend_on_text_and_are_unit_norm(scorer) -> None:
    emb = scorer.embed_text(TEXTS)
    assert emb.shape[0] == 2 and torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert not torch.allclose(emb[0], emb[1])  # the tokenizer is not the empty offline one


def test_resampling_and_channels(scorer) -> None:
    wave16 = _audio(1, 0.5, 16000, seed=3)
    prepared = prepare_audio(torch.stack([wave16, wave16], dim=1), 16000, 10.0)  # [B, C, S] -> mono
    assert prepared.shape == (1, CLAP_SAMPLE_RATE // 2)
    via_rate = scorer.embed_audio(wave16, 16000)
    via_48k = scorer.embed_audio(prepared, CLAP_SAMPLE_RATE)
    assert torch.allclose(via_rate, via_48k, atol=1e-5)
    long = prepare_audio(_audio(1, 12.0, 16000), 16000, 10.0)
    assert long.shape[-1] == 10 * CLAP_SAMPLE_RATE


def test_multitrack_scores_tracks_and_sum_mix(scorer) -> None:
    stems = _audio(2 * 3, 0.5, 16000, seed=5).reshape(2, 3, -1)
    metric = MultiTrackClapScore(scorer, ["bass", "drums", "melody"], sample_rate=16000)
    scored = torch.tensor([[True, False, True], [True, False, False]])
    metric.update(stems, TEXTS, scored=scored)
    out = metric.compute()
    assert set(out) == {"bass", "drums", "melody", "mix"}
    assert torch.isnan(out["drums"]) and metric.count.tolist() == [2, 0, 1, 2]
    expected_mix = ClapScore(scorer, sample_rate=16000)
    expected_mix.update(stems.sum(dim=1), TEXTS)
    assert out["mix"].item() == pytest.approx(expected_mix.compute().item(), abs=1e-5)
    expected_melody = ClapScore(scorer, sample_rate=16000)
    expected_melody.update(stems[:1, 2], TEXTS[:1])
    assert out["melody"].item() == pytest.approx(expected_melody.compute().item(), abs=1e-5)


def test_states_reduce_by_sum() -> None:
    metric = ClapScore(scorer=None, sample_rate=16000)  # type: ignore[arg-type]
    assert metric._reductions["total"].__name__.endswith("sum")
    assert metric._reductions["count"].__name__.endswith("sum")
    metric.total += 1.5
    metric.count += 3
    other = ClapScore(scorer=None, sample_rate=16000)  # type: ignore[arg-type]
    other.total += 0.5
    other.count += 1
    metric.merge_state(other)  # what DDP sync does with the gathered states
    assert metric.compute().item() == pytest.approx(0.5)


def test_laion_backend_loads_local_checkpoint(tmp_path: Path, clap_module, scorer) -> None:
    state = {k: v.clone() for k, v in clap_module.model.state_dict().items()}
    # real laion checkpoints carry this buffer; laion-clap's loader deletes it
    state["text_branch.embeddings.position_ids"] = torch.arange(80)[None]
    ckpt = tmp_path / "clap.pt"
    torch.save({"state_dict": state}, ckpt)
    cfg = ClapConfig(backend="laion", checkpoint=str(ckpt), amodel="HTSAT-tiny", tokenizer="byt5")
    loaded = build_clap_scorer(cfg)
    audio = _audio(1, 0.5, 16000, seed=9)
    assert torch.allclose(loaded.embed_audio(audio, 16000), scorer.embed_audio(audio, 16000), atol=1e-5)
    assert torch.allclose(loaded.embed_text(TEXTS), scorer.embed_text(TEXTS), atol=1e-5)


def test_laion_backend_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        build_clap_scorer(ClapConfig(backend="laion", checkpoint=str(tmp_path / "none.pt")))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        build_clap_scorer(ClapConfig(backend="laion", checkpoint=str(bad), tokenizer="byt5"))
    with pytest.raises(ConfigError, match="backend"):
        build_clap_scorer(ClapConfig(backend="nope"))


def test_no_clap_by_default() -> None:
    """The schema's default scores nothing (no meaningless clap/* numbers); a command that needs CLAP says so."""
    assert ClapConfig().backend == "none" and build_clap_scorer(ClapConfig()) is None
    with pytest.raises(ConfigError, match="evaluate needs a CLAP model"):
        require_clap_scorer(ClapConfig(), "evaluate")


def test_offline_roberta_tokenizer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="tokenizer"):
        laion_tokenizer(str(tmp_path / "no-tokenizer-here"))


def test_transformers_backend_tiny_random_model() -> None:
    from transformers import ByT5Tokenizer, ClapFeatureExtractor, ClapModel
    from transformers import ClapConfig as HFClapConfig

    torch.manual_seed(0)
    text = dict(vocab_size=400, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=64, max_position_embeddings=80)
    audio = dict(depths=[1, 1], num_attention_heads=[2, 2], hidden_size=64, patch_embeds_hidden_size=32,
                 window_size=8, num_mel_bins=64, projection_dim=16)
    model = ClapModel(HFClapConfig(text_config=text, audio_config=audio, projection_dim=16))
    scorer = TransformersClapScorer(model, ClapFeatureExtractor(), ByT5Tokenizer(), batch_size=1,
                                    max_seconds=10.0)
    wave = _audio(2, 0.5, 16000, seed=1)
    metric = ClapScore(scorer, sample_rate=16000)
    metric.update(wave, TEXTS)
    a, t = scorer.embed_audio(wave, 16000), scorer.embed_text(TEXTS)
    assert a.shape == (2, 16) and t.shape == (2, 16)
    assert metric.compute().item() == pytest.approx(float((a * t).sum(-1).mean()), abs=1e-5)


def test_empty_offline_tokenizer_is_refused(monkeypatch) -> None:
    import transformers

    class Empty:  # what transformers 5 returns offline for a hub name: 5 tokens, no error
        def __len__(self) -> int:
            return 5

    monkeypatch.setattr(transformers.RobertaTokenizer, "from_pretrained", classmethod(lambda cls, name: Empty()))
    with pytest.raises(CheckpointError, match="5 tokens"):
        laion_tokenizer("roberta-base")

"""CLAP scorers: one interface over laion-clap (checkpoint or random weights) and transformers.

Every backend takes audio at any sample rate, resamples to CLAP's 48 kHz, folds channels to mono,
centre-crops to ``max_seconds`` (so scores are deterministic: laion-clap would crop at random) and
returns L2-normalised embeddings, so a text-audio CLAP score is a plain dot product.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio.functional as AF

from jen_composer.core.config.evaluation import ClapConfig
from jen_composer.core.errors import CheckpointError, ConfigError

CLAP_SAMPLE_RATE = 48000
BACKENDS = ("random", "laion", "transformers")
_BYT5_PAD_ID = 0  # ByT5Tokenizer's pad id: the random RoBERTa's padding index must match it


@runtime_checkable
class ClapScorer(Protocol):
    """Text and audio embeddings in one joint space (unit-norm rows)."""

    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """``wave [B, S]`` or ``[B, C, S]`` at ``sample_rate`` -> ``[B, E]``."""
        ...

    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        """``texts`` (B strings) -> ``[B, E]``."""
        ...


def prepare_audio(wave: torch.Tensor | np.ndarray, sample_rate: int, max_seconds: float) -> torch.Tensor:
    """Mono float32 ``[B, S']`` at 48 kHz, centre-cropped to at most ``max_seconds``."""
    wave = torch.as_tensor(wave).detach().float().cpu()
    if wave.dim() == 3:
        wave = wave.mean(dim=1)
    if wave.dim() != 2:
        raise ValueError(f"audio must be [B, S] or [B, C, S], got shape {tuple(wave.shape)}")
    if sample_rate != CLAP_SAMPLE_RATE:
        wave = AF.resample(wave, int(sample_rate), CLAP_SAMPLE_RATE)
    limit = int(round(max_seconds * CLAP_SAMPLE_RATE))
    if wave.shape[-1] > limit:
        start = (wave.shape[-1] - limit) // 2
        wave = wave[:, start : start + limit]
    return wave.contiguous()


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, max(1, size)):
        yield slice(start, min(n, start + size))


class LaionClapScorer:
    """laion-clap's ``CLAP_Module``; embeddings come from its own ``get_*_embedding`` calls."""

    def __init__(self, module: Any, tokenizer: Callable[[list[str]], Any] | None,
                 batch_size: int, max_seconds: float) -> None:
        self.module = module.eval()
        self.tokenizer = tokenizer  # None: the module's own RoBERTa tokenizer
        self.batch_size = batch_size
        self.max_seconds = max_seconds

    @torch.no_grad()
    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        audio = prepare_audio(wave, sample_rate, self.max_seconds).numpy()
        parts = [self.module.get_audio_embedding_from_data(audio[s], use_tensor=False)
                 for s in _batches(len(audio), self.batch_size)]
        return F.normalize(torch.from_numpy(np.concatenate(parts)).float(), dim=-1)

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        texts = list(texts)
        parts = [self.module.get_text_embedding(texts[s], tokenizer=self.tokenizer, use_tensor=False)
                 for s in _batches(len(texts), self.batch_size)]
        return F.normalize(torch.from_numpy(np.concatenate(parts)).float(), dim=-1)


class TransformersClapScorer:
    """A transformers ``ClapModel`` with its feature extractor and tokenizer."""

    def __init__(self, model: Any, feature_extractor: Any, tokenizer: Any,
                 batch_size: int, max_seconds: float, device: str = "cpu") -> None:
        self.model = model.eval().to(device)
        self.feature_extractor = feature_extractor
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_seconds = max_seconds
        self.device = device
        fusion = bool(getattr(model.config.audio_config, "enable_fusion", False))
        self._truncation = "fusion" if fusion else "rand_trunc"  # never random: clips are pre-cropped

    @classmethod
    def from_pretrained(cls, name_or_path: str, batch_size: int, max_seconds: float,
                        device: str = "cpu") -> TransformersClapScorer:
        from transformers import ClapModel, ClapProcessor

        try:
            model = ClapModel.from_pretrained(name_or_path)
            processor = ClapProcessor.from_pretrained(name_or_path)
        except OSError as exc:
            raise CheckpointError(f"evaluation.clap.checkpoint '{name_or_path}': cannot load a "
                                  f"transformers ClapModel ({str(exc).splitlines()[0]})") from None
        _check_vocab(processor.tokenizer, name_or_path, 1000)
        return cls(model, processor.feature_extractor, processor.tokenizer, batch_size, max_seconds, device)

    @staticmethod
    def _pooled(out: Any) -> torch.Tensor:
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    @torch.no_grad()
    def embed_audio(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        audio = prepare_audio(wave, sample_rate, self.max_seconds).numpy()
        parts = []
        for s in _batches(len(audio), self.batch_size):
            feats = self.feature_extractor(list(audio[s]), sampling_rate=CLAP_SAMPLE_RATE,
                                           truncation=self._truncation, return_tensors="pt")
            feats = {k: v.to(self.device) for k, v in feats.items()}
            parts.append(self._pooled(self.model.get_audio_features(**feats)).cpu())
        return F.normalize(torch.cat(parts).float(), dim=-1)

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        texts = list(texts)
        parts = []
        for s in _batches(len(texts), self.batch_size):
            tok = self.tokenizer(texts[s], padding=True, truncation=True, return_tensors="pt")
            tok = {k: v.to(self.device) for k, v in tok.items() if k in ("input_ids", "attention_mask")}
            parts.append(self._pooled(self.model.get_text_features(**tok)).cpu())
        return F.normalize(torch.cat(parts).float(), dim=-1)


# --- laion-clap construction -------------------------------------------------------------------


def _import_laion() -> Any:
    """Import laion_clap lazily, with the Hub switched to offline mode for the import only.

    laion_clap builds BERT/RoBERTa/BART tokenizers at import time that this package never uses (it
    passes its own tokenizer); without offline mode a machine with no network retries for minutes.
    """
    import sys

    if "laion_clap" in sys.modules:
        return sys.modules["laion_clap"]
    import huggingface_hub.constants as hub

    saved = hub.HF_HUB_OFFLINE
    hub.HF_HUB_OFFLINE = True
    try:
        import laion_clap
    finally:
        hub.HF_HUB_OFFLINE = saved
    return laion_clap


def _check_vocab(tokenizer: Any, name: str, minimum: int) -> None:
    # transformers 5 offline returns an EMPTY tokenizer instead of raising: check its size.
    if len(tokenizer) < minimum:
        raise CheckpointError(
            f"evaluation.clap.tokenizer '{name}': tokenizer has {len(tokenizer)} tokens (files missing "
            "offline?); point it at a local folder holding the RoBERTa tokenizer (vocab.json, merges.txt)"
        )


def byt5_tokenizer(max_length: int = 77) -> Callable[[list[str]], Any]:
    """A file-free byte tokenizer in laion-clap's calling convention (offline random backend)."""
    from transformers import ByT5Tokenizer

    tok = ByT5Tokenizer()

    def tokenize(texts: list[str]) -> Any:
        return tok(list(texts), padding="max_length", truncation=True, max_length=max_length,
                   return_tensors="pt")

    tokenize.vocab_size = len(tok)  # type: ignore[attr-defined]
    return tokenize


@contextlib.contextmanager
def _text_branch_factory(build: Callable[[], torch.nn.Module]) -> Iterator[None]:
    """Make laion-clap's ``RobertaModel.from_pretrained('roberta-base')`` build locally instead."""
    _import_laion()
    model_module = sys.modules["clap_module.model"]  # laion_clap puts its folder on sys.path
    hook_module = sys.modules["laion_clap.hook"]
    original_model, original_tok = model_module.RobertaModel, hook_module.RobertaTokenizer

    class _LocalRoberta:
        @staticmethod
        def from_pretrained(*_args: Any, **_kwargs: Any) -> torch.nn.Module:
            return build()

    class _NoTokenizer:  # the caller supplies the tokenizer; never touch the network here
        @staticmethod
        def from_pretrained(*_args: Any, **_kwargs: Any) -> None:
            return None

    model_module.RobertaModel, hook_module.RobertaTokenizer = _LocalRoberta, _NoTokenizer
    try:
        yield
    finally:
        model_module.RobertaModel, hook_module.RobertaTokenizer = original_model, original_tok


def _roberta(vocab: int, layers: int, intermediate: int, positions: int, type_vocab: int,
             pad_id: int) -> torch.nn.Module:
    from transformers import RobertaConfig, RobertaModel

    # hidden size stays 768: laion-clap's text_projection is Linear(768, joint dim)
    cfg = RobertaConfig(vocab_size=vocab, hidden_size=768, num_hidden_layers=layers, num_attention_heads=12,
                        intermediate_size=intermediate, max_position_embeddings=positions,
                        type_vocab_size=type_vocab, pad_token_id=pad_id, layer_norm_eps=1e-5)
    return RobertaModel(cfg)


def build_random_laion_clap(amodel: str, text_layers: int, seed: int, enable_fusion: bool = False,
                            device: str = "cpu") -> Any:
    """A laion ``CLAP_Module`` with random weights, built offline (plumbing tests only)."""
    laion_clap = _import_laion()
    vocab = byt5_tokenizer().vocab_size  # type: ignore[attr-defined]

    def build() -> torch.nn.Module:
        return _roberta(vocab, text_layers, 1024, 80, 1, _BYT5_PAD_ID)

    with torch.random.fork_rng(devices=[]), _text_branch_factory(build):
        torch.manual_seed(seed)  # weights are a pure function of the seed; global RNG untouched
        module = laion_clap.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel, device=device)
    return module.eval()


def _text_branch_shape(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """Infer the RoBERTa text tower's size from a laion checkpoint's tensors."""
    prefix = "text_branch."
    keys = [k for k in state if k.startswith(prefix + "encoder.layer.")]
    if not keys:
        raise CheckpointError("laion CLAP checkpoint has no RoBERTa text tower (text_branch.encoder.*)")
    layers = 1 + max(int(k.split(".")[3]) for k in keys)
    return {
        "vocab": state[prefix + "embeddings.word_embeddings.weight"].shape[0],
        "positions": state[prefix + "embeddings.position_embeddings.weight"].shape[0],
        "type_vocab": state[prefix + "embeddings.token_type_embeddings.weight"].shape[0],
        "intermediate": state[prefix + "encoder.layer.0.intermediate.dense.weight"].shape[0],
        "layers": layers,
    }


def build_laion_clap(checkpoint: str, amodel: str, enable_fusion: bool, tokenizer: str,
                     device: str = "cpu") -> tuple[Any, Callable[[list[str]], Any] | None]:
    """A laion ``CLAP_Module`` loaded from a local checkpoint, with no network access at all."""
    path = Path(checkpoint)
    if not checkpoint or not path.is_file():
        raise CheckpointError(f"evaluation.clap.checkpoint '{checkpoint}': CLAP checkpoint file not found "
                              "(e.g. music_audioset_epoch_15_esc_90.14.pt)")
    laion_clap = _import_laion()
    from clap_module.factory import load_state_dict

    try:
        state = load_state_dict(str(path), skip_params=True)
    except Exception as exc:  # torch.load raises many kinds on a corrupt file
        raise CheckpointError(f"{path}: not a laion CLAP checkpoint ({type(exc).__name__}: {exc})") from None
    tok_fn, pad_id = _laion_tokenizer(tokenizer)
    shape = _text_branch_shape(state)

    def build() -> torch.nn.Module:
        return _roberta(shape["vocab"], shape["layers"], shape["intermediate"], shape["positions"],
                        shape["type_vocab"], pad_id)

    with _text_branch_factory(build):
        module = laion_clap.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel, device=device)
    try:
        module.model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: does not match amodel={amodel} enable_fusion={enable_fusion} "
                              f"({str(exc).splitlines()[0]})") from None
    return module.eval(), tok_fn


def _laion_tokenizer(name: str) -> tuple[Callable[[list[str]], Any], int]:
    if name == "byt5":
        return byt5_tokenizer(), _BYT5_PAD_ID
    from transformers import RobertaTokenizer

    try:
        tok = RobertaTokenizer.from_pretrained(name)
    except OSError as exc:
        raise CheckpointError(f"evaluation.clap.tokenizer '{name}': {str(exc).splitlines()[0]}") from None
    _check_vocab(tok, name, 50000)

    def tokenize(texts: list[str]) -> Any:
        return tok(list(texts), padding="max_length", truncation=True, max_length=77, return_tensors="pt")

    return tokenize, int(tok.pad_token_id)


def build_clap_scorer(cfg: ClapConfig) -> ClapScorer:
    """The scorer ``cfg.backend`` names (random: offline, plumbing only; see docs/evaluation.md)."""
    if cfg.backend == "random":
        module = build_random_laion_clap(cfg.amodel, cfg.random_text_layers, cfg.random_seed,
                                         cfg.enable_fusion, cfg.device)
        return LaionClapScorer(module, byt5_tokenizer(), cfg.batch_size, cfg.max_seconds)
    if cfg.backend == "laion":
        with contextlib.redirect_stdout(io.StringIO()):  # laion-clap prints every parameter name
            module, tok = build_laion_clap(cfg.checkpoint, cfg.amodel, cfg.enable_fusion, cfg.tokenizer,
                                           cfg.device)
        return LaionClapScorer(module, tok, cfg.batch_size, cfg.max_seconds)
    if cfg.backend == "transformers":
        if not cfg.checkpoint:
            raise ConfigError("evaluation.clap.checkpoint: empty; give a hub name such as "
                              "'laion/larger_clap_music' or a local folder")
        return TransformersClapScorer.from_pretrained(cfg.checkpoint, cfg.batch_size, cfg.max_seconds,
                                                      cfg.device)
    raise ConfigError(f"evaluation.clap.backend '{cfg.backend}': expected one of {', '.join(BACKENDS)}")

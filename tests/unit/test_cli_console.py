"""The CLI hides known third-party noise by module + category + text, and nothing else."""

from __future__ import annotations

import logging
import warnings

import pytest

from jen_composer.cli.console import KNOWN_WARNINGS, TIP_PREFIX, quiet_known_noise


def _emitted(module: str, category: type[Warning], text: str) -> list[str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_known_noise()
        warnings.warn_explicit(text, category, f"/site-packages/{module.replace('.', '/')}.py", 21, module=module)
    return [str(w.message) for w in seen]


@pytest.mark.parametrize("known", KNOWN_WARNINGS, ids=lambda k: k.module)
def test_known_noise_is_hidden_but_not_its_neighbours(known) -> None:  # type: ignore[no-untyped-def]
    module = known.module.replace("\\", "")
    text = known.message.replace("\\", "") + " and the rest of the text"
    assert _emitted(module, known.category, text) == []
    assert _emitted(module, known.category, "something new the user should read") != []  # same module, other text
    assert _emitted("jen_composer.models.unet", known.category, text) != []  # same text, our module
    assert _emitted(module, RuntimeWarning, text) != []  # same text, other category


def test_unknown_warning_still_shows() -> None:
    assert _emitted("somelib.core", UserWarning, "data.batch_size is larger than the dataset") != []


def test_filters_do_not_leak_without_the_cli() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.warn_explicit(KNOWN_WARNINGS[0].message.replace("\\", ""), KNOWN_WARNINGS[0].category, "x.py", 1,
                               module="lightning.pytorch.utilities._pytree")
    assert seen  # importing jen_composer alone installs nothing


def test_lightning_tips_are_dropped_other_info_kept(caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings():  # the warning filters it also installs stay inside this test
        quiet_known_noise()
        quiet_known_noise()  # idempotent
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    with caplog.at_level(logging.INFO, logger="lightning.pytorch.utilities.rank_zero"):
        logger.info(f"{TIP_PREFIX} For seamless cloud logging, try installing litlogger")
        logger.info("GPU available: False, used: False")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False, used: False"]
    assert sum(type(f).__name__ == "_DropTips" for f in logger.filters) == 1

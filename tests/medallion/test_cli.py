"""The CLI's run and maintain commands keep to the layers asked for (no Spark: the pipeline and
maintain are stand-ins)."""

from __future__ import annotations

from pathlib import Path

import pytest

import medallion.maintain
import medallion.pipeline
import medallion.session
from medallion.cli import main
from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.maintain import MaintainResult
from medallion.pipeline import RunReport
from medallion.results import Status


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []

    def fake_maintain(spark, lakehouse, *, retention_hours, force, layers):
        seen.append(dict(lakehouse=lakehouse, retention=retention_hours, layers=list(layers)))
        status = Status.FAILED if Layer.GOLD in layers else Status.OK
        return [MaintainResult(layer=layers[0].value, table="t", path="p", status=status)]

    monkeypatch.setattr(medallion.maintain, "maintain", fake_maintain)
    monkeypatch.setattr(medallion.session, "get_spark", lambda *args, **kwargs: None)
    return seen


def test_maintain_one_layer_or_all(calls: list[dict[str, object]], tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    assert main(["maintain", "--layer", "silver", "--lakehouse", root]) == 0
    assert calls == [dict(lakehouse=Lakehouse.at(root), retention=168, layers=[Layer.SILVER])]
    assert main(["maintain", "--lakehouse", root, "--retention-hours", "200"]) == 1
    assert calls[-1] == dict(lakehouse=Lakehouse.at(root), retention=200, layers=list(LAYERS))


def test_maintain_refuses_an_unknown_layer(
    calls: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["maintain", "--layer", "platinum"])
    assert "invalid choice: 'platinum'" in capsys.readouterr().err
    assert calls == []


def test_run_takes_several_layers_in_their_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran: list[list[Layer]] = []

    def fake_run(spark, lakehouse, domain, layers, **kwargs):
        ran.append(list(layers))
        return RunReport()

    monkeypatch.setattr(medallion.pipeline, "run", fake_run)
    monkeypatch.setattr(medallion.session, "get_spark", lambda *args, **kwargs: None)
    root = ["--lakehouse", str(tmp_path / "lake"), "--preview", "0"]
    assert main(["run", "--layer", "silver", "--layer", "bronze", *root]) == 0
    assert main(["run", "--layer", "gold", *root]) == 0
    assert main(["run", *root]) == 0
    assert ran == [[Layer.BRONZE, Layer.SILVER], [Layer.GOLD], list(LAYERS)]

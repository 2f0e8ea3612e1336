"""The training charts' Vega-Lite specs: legends never cut, whole-number axes without fractions.
Seen in a browser: legends "T:" and "outp" clipped in narrow columns, layer axes ticked 1.5, 2.5,
an epoch axis reading 1.000000 after one epoch, log axes mixing 1e-8 with 0.000001."""
import pytest

from apps.components import charts


@pytest.fixture
def shown(monkeypatch):
    """The chart objects the helpers would hand to Streamlit."""
    out = []
    monkeypatch.setattr(charts, "_show", lambda chart, title="", height=charts.CHART_HEIGHT: out.append(chart.to_dict()))
    return out


def _legend(spec: dict) -> dict:
    return spec["encoding"]["color"]["legend"]


def _fits(legend: dict, labels: list[str], width: int = 200) -> bool:
    """Every row of the legend fits in `width` pixels at 7 px a character plus the symbol (or it
    has one label a row, which is all one can do)."""
    per_row = min(legend["columns"], len(labels))
    return per_row == 1 or per_row * (7 * max(map(len, labels)) + 30) <= width


def test_series_legends_fit_a_third_of_the_page_and_whole_number_axes_have_no_fractions(shown):
    charts.series_chart({f"T={t}": [0.1 * (i + 1) for i in range(t)] for t in (5, 10, 20, 40)},
                        "time step t", "gradient norm at step t")
    charts.series_chart({"mean gradient norm": [1e-8, 1e-6, 1e-4]}, "layer (input → output)", "‖∂E/∂W‖",
                        x_values=[1, 2, 3])
    charts.series_chart({"unclipped: ‖gradient‖": [1.0, 2.0], "clipped: ‖gradient‖ as applied": [1.0, 1.0]},
                        "step", "gradient norm")
    for spec, labels in zip(shown, (["T=5", "T=10", "T=20", "T=40"], ["mean gradient norm"],
                                    ["unclipped: ‖gradient‖", "clipped: ‖gradient‖ as applied"])):
        legend = _legend(spec)
        assert legend["labelLimit"] == 0 and legend["orient"] == "bottom"
        assert _fits(legend, labels), legend
        assert spec["encoding"]["x"]["axis"]["format"] == "d" and spec["encoding"]["x"]["axis"]["tickMinStep"] == 1
        assert "labelExpr" in spec["encoding"]["y"]["axis"]          # log ticks in one style
    charts.series_chart({"loss": [1.0, 0.5, 2.0]}, "t", "loss", x_values=[0.0, 0.5, 1.0], log=False)
    assert "format" not in shown[-1]["encoding"]["x"].get("axis", {})   # fractions are real here


def test_training_panel_charts(shown):
    batches = [{"step": s, "epoch": 1, "loss": 1.0 / s, "grad_norms": {"conv1": 0.1, "conv2": 0.2, "fc1": 0.3,
                                                                        "fc2": 0.2, "output": 0.5}}
               for s in range(1, 30)]
    charts.loss_chart(batches)
    charts.epoch_chart([{"epoch": 1, "train_accuracy": 0.9, "val_accuracy": 0.91}])
    charts.grad_norm_chart(batches)
    loss, epoch, grads = shown
    assert loss["encoding"]["x"]["axis"]["format"] == "d"
    assert epoch["encoding"]["x"]["axis"]["format"] == "d"        # one epoch: "1", not "1.000000"
    assert epoch["encoding"]["x"]["title"] == "epoch" and epoch["encoding"]["y"]["axis"]["format"] == ".1~%"
    assert _fits(_legend(grads), ["conv1", "conv2", "fc1", "fc2", "output"]) and _legend(grads)["labelLimit"] == 0
    assert "scale" not in grads["encoding"]["color"]
    # twelve layers: twenty colours, so no two share one (ten repeat)
    charts.grad_norm_chart([{**b, "grad_norms": {f"block{i}": 0.1 for i in range(12)}} for b in batches])
    assert shown[-1]["encoding"]["color"]["scale"]["scheme"] == "category20"


def test_runs_chart_whole_steps_but_seconds_stay_decimal(shown):
    runs = {"stochastic (batch 1)": [{"step": i, "time": 0.1 * i, "loss": 1.0 / i} for i in range(1, 20)],
            "full batch (300)": [{"step": i, "time": 0.3 * i, "loss": 2.0 / i} for i in range(1, 20)]}
    charts.runs_chart(runs, x="step", y="loss", log=True)
    charts.runs_chart(runs, x="time", y="loss", log=True, x_title="seconds")
    steps, seconds = shown
    assert steps["encoding"]["x"]["axis"]["format"] == "d"
    assert "format" not in seconds["encoding"]["x"].get("axis", {})
    assert _fits(_legend(steps), list(runs)) and _legend(steps)["labelLimit"] == 0

"""The Backprop Lab under AppTest: every section runs, the hand step shows its
numbers, experiments train and answer, set-ups come back from a shared link, and
bad input gets a message."""
import pytest
from streamlit.testing.v1 import AppTest

from models.lab import hand as lab_hand

from conftest import ROOT, shown


def lab(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "apps" / "lab.py"), default_timeout=120)
    at.query_params.update({k: str(v) for k, v in query.items()})
    return at.run()


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_one_step_phase_by_phase_shows_every_number():
    at = lab()
    no_exception(at)
    expected = lab_hand.update(lab_hand.HandSetup.default())
    for _ in range(4):
        at.button(key="next_phase").click().run()
        no_exception(at)
    text = markdown(at)
    assert "z1 = w11·x1 + w12·x2 + b1 = 0.15×0.05 + 0.2×0.1 + 0.35 = 0.3775" in text
    assert "∂E/∂w11 = ∂E/∂y · ∂y/∂z_out · ∂z_out/∂h1 · ∂h1/∂z1 · ∂z1/∂w11" in text
    assert "By hand against `torch.autograd`" in text
    assert f"<span id='new-w11'>{expected['w11']['new']:.6f}</span>" in text
    assert f"{expected['next_loss']:.6f}" in text
    # the next click applies the update: the set-up (and the URL) now hold the new weights
    at.button(key="next_phase").click().run()
    assert at.number_input(key="w11").value == pytest.approx(expected["w11"]["new"])
    assert float(at.query_params["w11"]) == pytest.approx(expected["w11"]["new"])


def test_whole_step_and_n_steps_through_the_trainer():
    at = lab()
    at.button(key="whole_step").click().run()
    no_exception(at)
    assert any("One step taken" in s.value for s in at.success)
    at.number_input(key="n_steps").set_value(50).run()
    at.button(key="run_n").click().run()
    no_exception(at)
    assert any("50 steps with the common trainer" in h.value for h in at.subheader)
    # the run starts from the weights the whole step left, not from those it showed the step from
    held = {n: at.number_input(key=n).value for n in lab_hand.PARAM_NAMES}
    setup = lab_hand.HandSetup(held, *(at.number_input(key=k).value for k in ("x1", "x2", "t")), "sigmoid", "mse",
                               at.number_input(key="lr").value)
    assert at.session_state["hand_steps"]["losses"][0] == pytest.approx(lab_hand.forward(setup)["loss"], rel=1e-12)
    at.button(key="use_trained").click().run()
    no_exception(at)


def test_a_saturated_output_is_explained_and_can_still_be_stepped():
    # c = 40, t = 0, cross-entropy: y rounds to 1, the loss is infinite but every gradient finite; the
    # page had blocked both steps with "the new weights not all finite numbers"
    at = lab(c=40.0, t=0.0, loss="cross-entropy")
    no_exception(at)
    assert any("The output is saturated" in w.value for w in at.warning) and not at.error
    assert not at.button(key="whole_step").disabled
    at.button(key="whole_step").click().run()
    no_exception(at)
    assert at.number_input(key="c").value < 40.0


def test_a_shared_link_restores_the_set_up():
    at = lab(w11=0.5, x1=1.0, act="tanh", loss="cross-entropy", lr=2.0)
    no_exception(at)
    assert at.number_input(key="w11").value == 0.5
    assert at.selectbox(key="act").value == "tanh" and at.selectbox(key="loss").value == "cross-entropy"
    at.button(key="next_phase").click().run()
    assert "0.5×1" in markdown(at)


def test_diverging_learning_rate_ends_with_the_trainers_message():
    at = lab(lr=1000.0, loss="cross-entropy", n_steps=200)
    at.button(key="run_n").click().run()
    no_exception(at)
    errors = [e.value for e in at.error]
    assert any("Training diverged" in e and "learning rate (1000)" in e for e in errors), errors


def test_randomise_changes_the_weights():
    at = lab()
    before = at.number_input(key="w11").value
    at.button(key="randomise").click().run()
    no_exception(at)
    assert at.number_input(key="w11").value != before


@pytest.mark.parametrize("exp", ["Learning rate", "Initialisation", "Vanishing and exploding",
                                 "Gradient descent flavours", "Input normalisation"])
def test_each_experiment_runs_and_plots(exp):
    at = lab(section="Experiments", exp=exp, data="Moons", points=200)
    no_exception(at)
    assert len(at.get("vega_lite_chart")) >= 1


def test_learning_rate_experiment_reports_divergence():
    at = lab(section="Experiments", exp="Learning rate", data="XOR")
    no_exception(at)
    assert any("diverged, as this experiment means to show" in w.value.lower() for w in at.warning)
    assert not at.error


def test_recurrent_experiment_runs():
    at = lab(section="Experiments", exp="Recurrent (BPTT)", T=10, cell="GRU")
    no_exception(at)
    assert any("validation accuracy" in m.label for m in at.metric)


@pytest.mark.parametrize("csv,message", [
    (b"", "empty"),
    (b"x1,x2,label\n1,2,a\n3,4,a\n5,6,a\n7,8,a\n1,2,a\n3,4,a\n5,6,a\n7,8,a\n1,1,a\n2,2,a\n", "one class"),
    (b"x1,x2,label\n1,two,a\n3,4,b\n", "numeric"),
    (b"just one column\n1\n2\n", "column"),
])
def test_bad_csv_gets_a_clear_message(csv, message):
    at = lab(section="Experiments", exp="Learning rate", data="Your CSV")
    at.file_uploader(key="lab_csv").set_value(("points.csv", csv, "text/csv")).run()
    no_exception(at)
    errors = " ".join(e.value for e in at.error).lower()
    assert "cannot use this csv" in errors and message in errors, errors


def test_good_csv_trains():
    rows = "\n".join(f"{x},{y},{'in' if x * x + y * y < 1 else 'out'}"
                     for x in (-1.5, -0.5, 0.0, 0.5, 1.5) for y in (-1.5, -0.7, 0.0, 0.7, 1.5))
    at = lab(section="Experiments", exp="Input normalisation", data="Your CSV")
    at.file_uploader(key="lab_csv").set_value(("ring.csv", ("x1,x2,label\n" + rows).encode(), "text/csv")).run()
    no_exception(at)
    assert not at.error
    assert any("features 'x1' and 'x2', label 'label': 25 points in 2 classes" in shown(c.value) for c in at.caption)
    # the toy sets' noise and size say nothing about a CSV: they are greyed out, and say why
    assert at.slider(key="noise").disabled and at.select_slider(key="points").disabled


def test_an_experiment_runs_again_when_its_points_change():
    """Results are kept per set of points, not per name and size: XOR at noise 0.1 and 0.5 are both
    'xor' with 400 points, and two CSVs with one header and one length were one cache entry."""
    at = lab(section="Experiments", exp="Initialisation")
    before = at.table[0].value.iloc[:, -1].tolist()
    at.slider(key="noise").set_value(0.5).run()
    no_exception(at)
    assert at.table[0].value.iloc[:, -1].tolist() != before
    rows = [(x, y) for x in (-1.5, -0.5, 0.5, 1.5) for y in (-1.5, -0.5, 0.5, 1.5)]
    answers = []
    at = lab(section="Experiments", exp="Initialisation", data="Your CSV")
    for rule in (lambda x, y: x > 0, lambda x, y: x * y > 0):      # one session: a corrected file, say
        text = "x1,x2,label\n" + "\n".join(f"{x},{y},{int(rule(x, y))}" for x, y in rows)
        at.file_uploader(key="lab_csv").set_value(("mine.csv", text.encode(), "text/csv")).run()
        no_exception(at)
        answers.append(at.table[0].value.iloc[:, -1].tolist())
    assert len(at.session_state["lab_results"]) == 2 and answers[0] != answers[1]

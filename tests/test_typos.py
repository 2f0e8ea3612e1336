"""The Typos corrector: candidates, features, the network, the predictor on the
seed's example and keyboard slips, text handling, teaching a typo, and the
shipped model against the classic correctors on real misspellings."""
import pytest
import torch

from data.typos import spelling
from data.core.errors import DataError
from data.typos.features import edit_ops, featurize, to_batch
from models import load_predictor
from models.typos.net import TypoNet
from models.typos.task import TASK


@pytest.fixture(scope="module")
def predictor():
    return load_predictor("typos")


def test_edit_operations_name_the_slip():
    assert edit_ops("sesert", "desert") == ["sub:d>s", "subctx:^d>s"]
    assert edit_ops("hte", "the") == ["swap:th"]
    assert edit_ops("speling", "spelling")[0] == "drop:l"
    assert edit_ops("aadd", "add")[0] == "extra:a"
    assert edit_ops("word", "word") == ["same"]


def test_single_slip_operations_carry_their_context():
    # one-edit pairs take a fast path: the same operations the alignment names, with context
    assert edit_ops("wor", "word") == ["drop:d", "dropctx:rd$"]
    assert edit_ops("ord", "word") == ["drop:w", "dropctx:^wo"]
    assert edit_ops("xword", "word") == ["extra:x", "extractx:^x"]
    assert edit_ops("wordd", "word") == ["extra:d", "extractx:dd"]
    assert edit_ops("wprd", "word") == ["sub:o>p", "subctx:wo>p"]
    assert edit_ops("cta", "cat") == ["swap:at"]


def test_candidate_index_finds_what_symspellpy_finds(predictor):
    from symspellpy import SymSpell, Verbosity
    counts = predictor.index.counts
    sym = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
    for w, c in counts.items():
        sym.create_dictionary_entry(w, c)
    words = [t for t, _ in spelling.codespell_pairs(sample=300, seed=1)] + ["a", "z", "teh", "sesert", "qqqq"]
    for w in words:
        reach = 1 if len(w) <= 4 else 2
        theirs = sym.lookup(w, Verbosity.ALL, max_edit_distance=reach, transfer_casing=False)
        theirs.sort(key=lambda s: (s.distance, -s.count, s.term))
        mine = predictor.index.lookup(w)
        edits = [i for i, s in enumerate(mine.sources) if s == "edits"]     # then come those that sound alike
        assert [mine.words[i] for i in edits] == [s.term for s in theirs][:16], w
        assert [mine.distances[i] for i in edits] == [s.distance for s in theirs][:16], w
        assert edits == list(range(len(edits)))


def test_the_compact_delete_table_pools_what_a_dict_of_lists_would():
    import random
    from data.typos.deletes import DeleteTable, deletes
    rng = random.Random(0)
    words = list(dict.fromkeys("".join(rng.choice("abcde") for _ in range(rng.randint(1, 9))) for _ in range(3000)))
    table = DeleteTable(words, lambda w: deletes(w[:7], 2), chunk=500)    # several chunks
    ref: dict[str, set[str]] = {}
    for w in words:
        for d in deletes(w[:7], 2):
            ref.setdefault(d, set()).add(w)
    for typo in words[:300] + ["", "zzz", "abcdeabcde", "a" * 40]:
        wanted = deletes(typo[:7], 2)
        assert table.pool(wanted) == set().union(*(ref.get(d, set()) for d in wanted)), typo
    assert len(table) == len(ref)
    assert DeleteTable([], lambda w: deletes(w, 2)).pool({"a", "b"}) == set()
    with pytest.raises(TypeError, match="build it again"):      # its hashes mean nothing in another process
        __import__("pickle").dumps(table)


def test_unique_rows_is_torch_unique():
    import torch
    from models.typos.net import unique_rows
    g = torch.Generator().manual_seed(0)
    for n in (1, 7, 500):
        ids = torch.randint(0, 4, (n, 20), generator=g)
        ids[:, 12:] = 0
        rows, where = unique_rows(ids)
        ref_rows, ref_where = torch.unique(ids, dim=0, return_inverse=True)
        assert torch.equal(rows, ref_rows) and torch.equal(where, ref_where)


def test_candidates_include_the_intended_word(predictor):
    c = predictor.index.lookup("sesert")
    assert "desert" in c.words and len(c.words) <= 16
    assert c.distances == sorted(c.distances)


def test_network_scores_only_real_candidates(predictor):
    words = ["sesert", "teh"]
    b = to_batch(featurize(words, [predictor.index.lookup(w) for w in words], predictor.index))
    scores = TypoNet()(b.typo, b.cand, b.ops, b.numeric, b.mask)
    assert scores.shape == b.mask.shape
    assert (scores[~b.mask] <= -1e3).all()


def test_the_seeds_example_and_keyboard_slips(predictor):
    slips = {"sesert": "desert", "tge": "the", "hwllo": "hello", "wprld": "world", "keybaord": "keyboard",
             "recieve": "receive", "speling": "spelling", "bicyle": "bicycle", "acomodate": "accommodate"}
    out = predictor.predict(list(slips))
    got = {w: r["label"] for w, r in zip(slips, out)}
    assert got["sesert"] == "desert"
    assert sum(got[w] == c for w, c in slips.items()) >= len(slips) - 1, got
    r = out[0]
    assert 0 < r["score"] <= 1 and r["top"][0] == ("desert", r["score"]) and len(r["top"]) <= 3


def test_known_words_are_kept(predictor):
    assert [r["label"] for r in predictor.predict(["desert", "dessert", "the"])] == ["desert", "dessert", "the"]


def test_text_keeps_case_punctuation_and_odd_tokens(predictor):
    out = predictor.correct_text("Sesert, the TEH wrold! 3.14 https://x.org 🙂 日本語")
    assert out["text"] == "Desert, the THE world! 3.14 https://x.org 🙂 日本語"
    assert [c["original"] for c in out["changes"]] == ["Sesert", "TEH", "wrold"]
    assert all(c["alternatives"] for c in out["changes"])


def test_text_keeps_tabs_and_line_breaks(predictor):
    out = predictor.correct_text("teh\tsesert\n\nwrold  ok")
    assert out["text"] == "the\tdesert\n\nworld  ok"
    assert "".join(out["pieces"]) == out["text"]
    assert [out["pieces"][c["index"]] for c in out["changes"]] == ["the", "desert", "world"]


def test_everyday_words_are_kept(predictor):
    assert [r["label"] for r in predictor.predict(["ok", "app", "lol", "emoji", "wifi"])] == \
        ["ok", "app", "lol", "emoji", "wifi"]


@pytest.mark.parametrize("text", ["", "   ", "a" * 100_000])
def test_bad_text_gets_a_clear_error(predictor, text):
    with pytest.raises(DataError):
        predictor.correct_text(text)


def test_emoji_and_other_scripts_never_crash(predictor):
    assert predictor.correct_text("🙂🙂 ✓ Ωμέγα")["changes"] == []
    assert predictor.predict(["🙂"])[0]["label"] == "🙂"


def test_teaching_a_typo_changes_the_answer(predictor):
    from models.core.tasks import train_model
    from models.core.trainer import TrainConfig
    typo, meant = "dessrt", "dessert"
    before = predictor.predict([typo])[0]["label"]
    splits = TASK.splits_from_pairs([(typo, meant)], replay=300, index=predictor.index)
    run = train_model(TASK, splits, TrainConfig(epochs=2, batch_size=64, lr=1e-3), init=predictor.model)
    taught = TASK.predictor_class(run.model, run.card, predictor.index)
    assert taught.predict([typo])[0]["label"] == meant
    assert before != meant or predictor.predict([typo])[0]["score"] < taught.predict([typo])[0]["score"]
    assert taught.predict(["sesert"])[0]["label"] == "desert"        # it did not forget


def test_teaching_refuses_what_it_cannot_learn(predictor):
    with pytest.raises(DataError, match="Not in the vocabulary"):
        TASK.splits_from_pairs([("qwzx", "qwzxqwzx")], index=predictor.index)
    with pytest.raises(DataError, match="More than two edits"):
        TASK.splits_from_pairs([("abcdefgh", "zebra")], index=predictor.index)


@pytest.mark.slow
def test_shipped_model_beats_norvig_on_real_misspellings(predictor):
    from models.typos.baselines import Norvig, evaluate
    from models.typos.eval import Ours
    vocab = spelling.load_vocabulary()
    pairs = spelling.codespell_pairs(vocab, sample=400, seed=1)
    ours = evaluate(Ours(predictor), pairs)["accuracy"]
    norvig = evaluate(Norvig(predictor.index.counts), pairs)["accuracy"]
    assert ours >= norvig + 0.02, (ours, norvig)


def test_teaching_keeps_the_words_a_model_already_knew(predictor):
    splits = TASK.splits_from_pairs([("sesert", "desert")], replay=50, index=predictor.index,
                                    added_vocab={"zorbl": 500})
    assert splits.provenance["vocabulary_added"] == {"zorbl": 500}


def test_the_predict_command_corrects_a_text_file(tmp_path, capsys):
    """`python -m models.predict typos notes.txt` once crashed with NotImplementedError: a file is a
    text, corrected as correct_text does, printed as JSON."""
    import json
    from models.predict import main
    (tmp_path / "notes.txt").write_text("The sesert was wrold famous.\n")
    (tmp_path / "huge.txt").write_text("word " * 20_000)
    assert main(["typos", str(tmp_path / "notes.txt")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"] == "The desert was world famous.\n"
    assert [c["correction"] for c in out["changes"]] == ["desert", "world"]
    assert main(["typos", str(tmp_path / "huge.txt"), str(tmp_path / "missing.txt")]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "at most 20,000 characters to correct" in lines[0]["error"] and "cannot read" in lines[1]["error"]
    # a text given itself, not as a file
    assert main(["typos", "--text", "the sesert was wrold famous"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["input"] == "the sesert was wrold famous" and out["text"] == "the desert was world famous"


def test_trimming_the_padding_changes_no_score():
    """The character encoder cuts the columns that are padding in every row: the same output
    as encoding all MAX_LEN columns, to float precision."""
    torch.manual_seed(0)
    enc = TypoNet().chars
    ids = torch.zeros(5, 20, dtype=torch.long)
    for i, n in enumerate([3, 7, 1, 5, 6]):
        ids[i, :n] = torch.randint(2, 40, (n,))
    full = torch.cat([ids, torch.zeros(5, 0, dtype=torch.long)], 1)
    trimmed = enc(ids)
    # the reference: every column encoded, as before trimming existed
    x = enc.embed(full).transpose(1, 2)
    x = torch.relu(enc.conv2(torch.relu(enc.conv1(x))))
    reference = x.masked_fill((full == 0).unsqueeze(1), -1e4).amax(dim=2).clamp(min=0)
    assert torch.allclose(trimmed, reference, atol=1e-6)

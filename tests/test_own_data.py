"""A person's own training data is a stranger's file too: zips that are damaged in every way a zip can
be, folders that link elsewhere, class names no model can keep, and uploads that are small on disk
but ask for hours of decoding. Each is one clear message, before the work is spent."""
import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from data.core.class_folders import Budget, LoadedClasses, check_examples, load, scan, unzip
from data.core.errors import DataError


def png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def zip_of(entries: dict, method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def directory_field(data: bytes, offset: int, value: int) -> bytes:
    """The zip with a 2-byte field of its (one) central directory entry set: flags at 8, method at 10."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + value.to_bytes(2, "little") + data[at + 2:]


def spoiled(method) -> bytes:
    """A zip whose one entry's packed stream is damaged in the middle."""
    data = zip_of({"a/x.png": os.urandom(1) * 50_000 + os.urandom(2_000)}, method)
    mid = data.index(b"a/x.png") + 200
    return data[:mid] + b"\xff" * 64 + data[mid + 64:]


@pytest.mark.parametrize("data, message", [
    (directory_field(zip_of({"a/x.png": png()}), 8, 1), "is encrypted"),
    (directory_field(zip_of({"a/x.png": png()}), 10, 99), "method zip readers rarely know"),
    (spoiled(zipfile.ZIP_LZMA), "damaged or cannot be unpacked"),
    (spoiled(zipfile.ZIP_BZIP2), "damaged or cannot be unpacked"),
    (zip_of({"a/b": b"x", "a/b/c.png": png()}), "damaged or cannot be unpacked"),    # a file where a folder goes
    (zip_of({"a" * 300 + "/x.png": png()}), "longer than 255 bytes"),
    (zip_of({"a/" * 1_500 + "x/1.png": png()}), "1,501 folders deep"),
])
def test_a_damaged_zip_is_one_clear_error_and_leaves_nothing(tmp_path, monkeypatch, data, message):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(DataError, match=message):
        unzip(data)
    assert not list(tmp_path.iterdir())          # the folder it unpacked into is gone


def test_folders_within_folders_are_stepped_into_a_few_times_only(tmp_path):
    deep = tmp_path.joinpath(*["wrap"] * 20)
    for c in ("x", "y"):
        (deep / c).mkdir(parents=True)
        (deep / c / "1.png").write_bytes(png())
    with pytest.raises(DataError, match="folders within folders"):      # was a RecursionError at 1,500
        scan(tmp_path, {".png"})
    shallow = tmp_path / "wrap" / "wrap"
    assert scan(shallow.joinpath(*["wrap"] * 16), {".png"}).classes == ["x", "y"]


def test_links_in_a_folder_are_not_followed(tmp_path):
    """A folder named on the command line is the user's, but a link in it could lead anywhere: a class
    folder linked to /usr read 5,000 of its files as examples, and a file linked to /etc/passwd was opened."""
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "9.png").write_bytes(png())
    root = tmp_path / "mine"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        (root / c / "1.png").write_bytes(png())
    (root / "c").symlink_to(outside / "secret")
    (root / "a" / "linked.png").symlink_to(outside / "secret" / "9.png")
    (root / "b" / "deeper").symlink_to(outside)
    found = scan(root, {".png"})
    assert found.classes == ["a", "b"]
    assert all(outside not in f.resolve().parents for f, _ in found.files)
    assert "a/linked.png" in found.ignored


@pytest.mark.parametrize("names, message", [
    (["ok", "n" * 250], "250 characters long; at most 200"),
    (["Seven", "seven"], "differ only in case"),
    (["caf\u00e9", "cafe\u0301"], "differ only in case or in how an accent is written"),
    (["a", "b\u200bc"], "control or invisible character"),
])
def test_class_names_a_model_could_not_keep_are_refused_before_reading(tmp_path, names, message):
    for n in names:
        (tmp_path / n).mkdir()
        (tmp_path / n / "1.png").write_bytes(png())
    with pytest.raises(DataError, match=message):
        scan(tmp_path, {".png"})
    with pytest.raises(DataError, match=message):
        check_examples(names * 2)


def test_a_labelled_csv_with_a_label_no_model_keeps_is_refused():
    from data.sentiment.datasets import read_labelled
    with pytest.raises(DataError, match="10,000 characters long"):
        read_labelled("text,label\ngood,pos\nbad," + "x" * 10_000 + "\n")


def test_counts_of_many_classes_are_counted_once():
    found = LoadedClasses(list(range(6)), [0, 1, 1, 2, 2, 2], ["a", "b", "c"], [], [])
    assert found.counts() == {"a": 1, "b": 2, "c": 3}


def test_an_upload_that_asks_for_too_much_decoding_is_refused_before_any_is_done(tmp_path):
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(3):
            (tmp_path / c / f"{i}.png").write_bytes(png())
    from data.digits.images import image_pixels
    budget = Budget(image_pixels, 64 * 5, lambda total: f"over {total} pixels")
    with pytest.raises(DataError, match="over 384 pixels"):
        load(tmp_path, {".png"}, lambda f: pytest.fail("a file was decoded"), budget)
    assert len(load(tmp_path, {".png"}, lambda f: 1, Budget(image_pixels, 64 * 6, str)).items) == 6


def test_the_speech_and_digits_budgets_count_from_headers(tmp_path):
    import soundfile as sf
    from data.speech.audio import decoded_samples
    from data.speech.datasets import MAX_TRAINING_SAMPLES
    from models.digits.task import MAX_TRAINING_PIXELS
    from data.digits.images import image_pixels
    sf.write(tmp_path / "long.flac", np.zeros((384_000 * 70, 1), np.float32), 384_000)   # 70 s: 60 are read
    assert decoded_samples(tmp_path / "long.flac") == 60 * 384_000
    Image.new("1", (8_000, 5_000)).save(tmp_path / "big.png")
    assert image_pixels(tmp_path / "big.png") == 40_000_000
    # 10 KB PNGs of 40 one-bit megapixels: well under a zip's 50,000 files, over the pixel budget
    assert MAX_TRAINING_PIXELS // 40_000_000 < 1_000 and MAX_TRAINING_SAMPLES // (60 * 384_000) < 200


def test_a_word_list_parted_by_carriage_returns_is_counted_as_its_lines():
    from data.typos.spelling import MAX_LIST_LINES, Vocabulary, read_pairs_csv
    with pytest.raises(DataError, match="more than 500,000 lines"):
        Vocabulary.from_user_list("\r".join(f"w{i:x}" for i in range(MAX_LIST_LINES + 1)))
    assert len(Vocabulary.from_user_list("\r\n".join(["alpha", "beta"] * 1000))) == 2     # Windows lines count once
    with pytest.raises(DataError, match="lines; at most 100,000 pairs"):
        read_pairs_csv("\u2028".join(["teh,the"] * 210_000))


def test_many_pairs_are_taken_fewer_times_and_too_many_refused():
    from models.typos.task import MAX_TAUGHT_EXAMPLES, repeated
    assert len(repeated([("teh", "the")], 20)) == 20
    assert len(repeated([("teh", "the")] * 3_000, 20)) == 3_000 * (MAX_TAUGHT_EXAMPLES // 3_000)
    with pytest.raises(DataError, match="at most 40,000 can be taught"):
        repeated([("teh", "the")] * (MAX_TAUGHT_EXAMPLES + 1), 20)


def test_the_typos_command_reads_a_file_by_what_it_holds(tmp_path, monkeypatch):
    # a word list with counts saved as .csv had been trained on as pairs (zorblax -> 500)
    from models.typos.task import TASK
    seen = {}
    monkeypatch.setattr(TASK, "load_splits", lambda **kw: seen.update(kw) or "splits")
    (tmp_path / "words.csv").write_text("word,count\nzorblax,500\nqwixle,3\nc3po,1\n")
    _, report = TASK.load_custom(tmp_path / "words.csv")
    assert seen["added_vocab"] == {"zorblax": 500, "qwixle": 3} and "extra_pairs" not in seen
    assert report.skipped == [("line 4", "'c3po' is not a word of letters")]
    seen.clear()
    (tmp_path / "pairs.txt").write_text("teh -> the\nrecieve -> receive\n")
    _, report = TASK.load_custom(tmp_path / "pairs.txt")
    assert seen["extra_pairs"] == [("teh", "the"), ("recieve", "receive")] and report.classes == ["pairs"]


def test_text_uploads_in_the_encodings_editors_save():
    from data.core.uploads import decode_text
    text = "text,label\ncafé, crème,1\n"
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-8", "utf-8-sig", "cp1252"):
        assert decode_text(text.encode(encoding), "a CSV") == text, encoding
    # UTF-8 with one stray cp1252 byte stays UTF-8: decoded as cp1252 the header had been 'ï»¿text'
    assert decode_text(b"\xef\xbb\xbftext\ncaf\xc3\xa9\nna\xefve\n", "a CSV") == "text\ncafé\nna\ufffdve\n"
    assert decode_text(b"text\ncaf\xc3\xa9\ncr\xc3\xa8me\nna\xefve\n", "a CSV") == "text\ncafé\ncrème\nna\ufffdve\n"
    with pytest.raises(DataError, match="binary data"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "a CSV")
    from data.sentiment.datasets import read_labelled
    assert read_labelled("text\tlabel\nsuper, merci\t1\nnul\t0\n".encode("utf-16")).texts == ["super, merci", "nul"]


def test_speech_reads_mp3_and_aiff_folders(tmp_path):
    # libsndfile decodes both; the folders' .mp3 files had been skipped as not audio
    import soundfile as sf
    from data.speech.datasets import load_audio_folders
    t = np.arange(16000) / 16000
    for word, f0 in (("yes", 300), ("no", 700)):
        (tmp_path / word).mkdir()
        for i in range(2):
            x = (0.3 * np.sin(2 * np.pi * (f0 + 40 * i) * t)).astype(np.float32)
            sf.write(tmp_path / word / f"{i}.mp3", x, 16000, format="MP3", subtype="MPEG_LAYER_III")
            sf.write(tmp_path / word / f"{i}.aiff", x, 16000, format="AIFF", subtype="PCM_16")
    found = load_audio_folders(tmp_path)
    assert found.classes == ["no", "yes"] and len(found.items) == 8 and not found.skipped


def test_a_wav_whose_recorder_was_stopped_before_writing_its_sizes():
    # RIFF and data sizes left at 0: it had been "no audio (0 samples)" though it holds a second
    import soundfile as sf
    from data.speech.audio import decode_recording
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(np.arange(16000) / 8)).astype(np.float32), 16000, format="WAV", subtype="PCM_16")
    data = bytearray(buf.getvalue())
    at = data.index(b"data")
    data[4:8] = data[at + 4:at + 8] = bytes(4)
    wave, sr, _ = decode_recording(bytes(data))
    assert sr == 16000 and len(wave) == 16000
    assert len(decode_recording(buf.getvalue())[0]) == 16000       # an intact file as it was

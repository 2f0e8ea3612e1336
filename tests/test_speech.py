"""Speech: preprocessing, the loaders in each layout, the synthesis command, the
predictor and its sliding-window scan, and the CLIs on speech."""
import csv
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from data.core.errors import DataError, DatasetMissing
from data.speech.audio import (CLIP_SAMPLES, clip_16k, decode_recording, fit_clip, logmel, read_audio, resample,
                               wav_bytes)
from data.speech.datasets import load_fsdd, load_word_folders, background_noise, read_clip, silence_clips


def tone(seconds: float, sr: int, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write(path: Path, x: np.ndarray, sr: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype="PCM_16")
    return path


# ---- preprocessing ------------------------------------------------------------------------
def test_resampling_any_rate_to_16k():
    for sr in (8000, 22050, 44100, 48000):
        assert len(resample(tone(1.0, sr), sr)) == pytest.approx(16000, abs=2)
    x = resample(tone(1.0, 8000, 1000), 8000)
    spectrum = torch.fft.rfft(x).abs()
    assert int(spectrum.argmax()) == pytest.approx(1000, abs=2)      # the tone stays at 1 kHz


def test_pad_short_clips_centred_and_crop_long_ones_to_the_loudest_second():
    short = torch.ones(4000)
    out = fit_clip(short)
    assert len(out) == CLIP_SAMPLES and out[:6000].sum() == 0 and out[6000:10000].sum() == 4000
    long = torch.zeros(48000)
    long[30000:34000] = 1.0                                          # a burst at 1.9-2.1 s
    out = fit_clip(long)
    assert len(out) == CLIP_SAMPLES and out.sum() == 4000


def test_spectrogram_shape_and_scale():
    mels = logmel(torch.stack([clip_16k(tone(0.5, 8000), 8000), clip_16k(tone(2.0, 48000), 48000)]))
    assert mels.shape == (2, 1, 40, 51)
    assert float(mels.max()) == 0.0 and float(mels.min()) >= -80.0


def test_stereo_and_channel_first_arrays_become_mono():
    stereo = np.stack([tone(1, 16000), tone(1, 16000)], axis=1)
    assert clip_16k(stereo, 16000).shape == (CLIP_SAMPLES,)
    assert clip_16k(stereo.T, 16000).shape == (CLIP_SAMPLES,)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="not a readable audio file"):
        read_audio(b"this is not audio at all")
    with pytest.raises(DataError, match="empty"):
        decode_recording(b"")
    with pytest.raises(DataError, match="No such file or directory"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(DataError, match="Is a directory"):
        read_audio(tmp_path)
    empty = write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(DataError, match="no audio"):
        read_audio(empty)
    with pytest.raises(DataError):
        clip_16k(np.zeros(0, np.float32), 16000)


def test_a_small_file_cannot_decode_to_gigabytes():
    from data.speech.audio import MAX_DECODED
    # 10 s of 8 silent channels at 384 kHz: a FLAC of a few dozen KB, 31 million samples decoded
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=384_000, channels=8, format="FLAC", subtype="PCM_16") as f:
        for _ in range(10):
            f.write(np.zeros((384_000, 8), np.float32))
    assert len(buf.getvalue()) < 100_000
    wave, sr, notes = decode_recording(buf.getvalue())
    assert len(wave) == MAX_DECODED // 8 and notes[-1] == "10.0 s long: only the first 7.5 s are used"
    # 64 channels (Vorbis allows 255) are refused from the header, before anything is decoded
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=16_000, channels=64, format="OGG", subtype="VORBIS") as f:
        f.write(np.zeros((16_000, 64), np.float32))
    with pytest.raises(DataError, match="64 channels: recordings of up to 32"):
        decode_recording(buf.getvalue())
    buf = io.BytesIO()
    sf.write(buf, np.zeros(1000, np.float32), 500, format="WAV")
    with pytest.raises(DataError, match="sample rate of 500 Hz"):
        read_audio(buf.getvalue())


def test_reading_block_by_block_mixes_every_frame_as_one_read_would():
    # 3 channels of different noise, a length no block size divides: mono is each frame's mean
    x = np.random.default_rng(0).uniform(-1, 1, (1_000_003, 3)).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, x, 16_000, format="WAV", subtype="FLOAT")
    wave, sr = read_audio(buf.getvalue(), max_seconds=None)
    assert sr == 16_000 and np.allclose(wave, x.mean(axis=1), atol=1e-7)


def test_decoding_notes_stereo_rate_and_length(tmp_path):
    stereo48 = np.stack([tone(1, 48000), tone(1, 48000, 300)], axis=1)
    buf = io.BytesIO()
    sf.write(buf, stereo48, 48000, format="WAV")
    wave, sr, notes = decode_recording(buf.getvalue())
    assert wave.ndim == 1 and sr == 48000
    assert any("mono" in n for n in notes) and any("resampled" in n for n in notes)
    ten_minutes = wav_bytes(np.zeros(600 * 8000, np.float32), 8000)
    wave, sr, notes = decode_recording(ten_minutes)
    assert len(wave) == 60 * 8000 and any("10.0 minutes" in n for n in notes)


# ---- loaders ------------------------------------------------------------------------------
def test_fsdd_layout_and_its_packed_form(tmp_path):
    rec = tmp_path / "plain" / "fsdd" / "recordings"
    for d in (3, 7):
        for take in range(3):
            write(rec / f"{d}_alice_{take}.wav", tone(0.4, 8000, 200 + 100 * d), 8000)
    clips = load_fsdd(tmp_path / "plain")
    assert len(clips) == 6 and clips.waves.shape == (6, CLIP_SAMPLES)
    assert sorted(set(clips.words)) == ["seven", "three"] and set(clips.speakers) == {"alice"}
    assert sorted(clips.takes) == [0, 0, 1, 1, 2, 2]
    # the packed form (one Opus stream + a csv index, as ../shared/datasets/fsdd holds it)
    packed = tmp_path / "packed" / "fsdd"
    packed.mkdir(parents=True)
    audio = [tone(0.3, 8000, 300), tone(0.5, 8000, 500)]
    sf.write(str(packed / "fsdd.ogg"), np.concatenate(audio), 8000, format="OGG", subtype="OPUS")
    with open(packed / "fsdd.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "start", "length", "sample_rate"])
        w.writerow(["recordings/1_bob_0.wav", 0, 2400, 8000])
        w.writerow(["recordings/2_bob_0.wav", 2400, 4000, 8000])
    clips = load_fsdd(tmp_path / "packed")
    assert clips.words == ["one", "two"]


def test_missing_fsdd_says_where_to_put_it(tmp_path):
    with pytest.raises(DatasetMissing, match="Free Spoken Digit Dataset is not under"):
        load_fsdd(tmp_path)


def test_speech_commands_layout(tmp_path):
    for word in ("yes", "no"):
        for i in range(2):
            write(tmp_path / word / f"speaker{i}_nohash_0.wav", tone(1, 16000, 300 + i), 16000)
    write(tmp_path / "_background_noise_" / "white.wav", np.random.default_rng(0).normal(0, .1, 32000)
          .astype(np.float32), 16000)
    clips = load_word_folders(tmp_path)
    assert sorted(clips.words) == ["no", "no", "yes", "yes"] and set(clips.speakers) == {"speaker0", "speaker1"}
    assert background_noise(tmp_path).shape == (2, CLIP_SAMPLES)


def test_speakers_are_held_out_by_their_name_alone():
    from data.speech.datasets import validation_speaker
    speakers = [f"{i:08x}" for i in range(0, 2_000_000, 1000)]
    held = [s for s in speakers if validation_speaker(s)]
    assert 0.12 < len(held) / len(speakers) < 0.18                 # about 15%
    assert held == [s for s in speakers if validation_speaker(s)]   # the same people every time


def test_background_noise_keeps_the_end_of_every_recording_for_validation(tmp_path):
    from data.speech.datasets import background_noise_split
    rng = np.random.default_rng(0)
    for name, seconds in (("tap", 20), ("bike", 7)):
        x = rng.normal(0, .1, seconds * 16000).astype(np.float32)
        x[-16000 * max(1, round(seconds * .15)):] = 0.5                  # mark the held-out end
        write(tmp_path / "_background_noise_" / f"{name}.wav", x, 16000)
    train, val = background_noise_split(tmp_path)
    assert len(train) + len(val) == 27 and len(val) == 3 + 1
    assert (val.abs().max(1).values >= 0.49).all() and (train.abs().max(1).values < 0.49).all()
    with pytest.raises(DatasetMissing):
        background_noise_split(tmp_path / "nowhere")


def test_speech_commands_packed_as_shared_is_unpacked_into_the_cache(tmp_path, monkeypatch):
    """The shared pack (one Opus stream + a csv index) becomes the dataset's own word folders."""
    from data.speech.datasets import load_speech_commands, other_word_recordings, speech_commands_folder
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path / "cache"))
    pack = tmp_path / "root" / "speech_commands"
    pack.mkdir(parents=True)
    rows, audio = [], []
    for k, (word, speaker) in enumerate([("yes", "aa"), ("yes", "bb"), ("bird", "aa"), ("cat", "cc")]):
        x = tone(1, 16000, 300 + 50 * k)
        rows.append({"path": f"{word}/{speaker}_nohash_0.wav", "start": 16000 * k, "length": 16000,
                     "sample_rate": 16000})
        audio.append(x)
    sf.write(str(pack / "speech_commands.ogg"), np.concatenate(audio), 16000, format="OGG", subtype="OPUS")
    with open(pack / "speech_commands.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["path", "start", "length", "sample_rate"])
        w.writeheader()
        w.writerows(rows)
    folder = speech_commands_folder(tmp_path / "root")
    assert sorted(d.name for d in folder.iterdir() if d.is_dir()) == ["bird", "cat", "yes"]
    clips = load_speech_commands(tmp_path / "root")
    assert sorted(clips.words) == ["bird", "cat", "yes", "yes"] and sorted(set(clips.speakers)) == ["aa", "bb", "cc"]
    # a taught model's other words: never its own, one word after the other
    others = other_word_recordings(["Yes", "hello"], 2, tmp_path / "root")
    assert len(others) == 2 and all(sr == 16000 and len(x) == CLIP_SAMPLES for x, sr in others)
    pitches = sorted(int(np.abs(np.fft.rfft(x)).argmax()) for x, _ in others)      # 1 Hz bins: the tone
    assert pitches == pytest.approx([400, 450], abs=3)                            # bird and cat, not yes
    with pytest.raises(DataError, match="no other words"):
        other_word_recordings(["yes", "bird", "cat"], 2, tmp_path / "root")


def test_your_own_folders_as_a_zip(tmp_path):
    from models.speech.task import TASK
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for word, freq in (("hello", 300), ("bye", 900)):
            for i in range(5):
                z.writestr(f"mine/{word}/{i}.wav", wav_bytes(tone(0.6, 22050, freq + 10 * i), 22050))
        z.writestr("mine/bye/broken.wav", b"not audio")
    path = tmp_path / "mine.zip"
    path.write_bytes(buf.getvalue())
    splits, report = TASK.load_custom(path)
    assert splits.labels == ["bye", "hello"] and report.counts() == {"bye": 5, "hello": 5}
    assert report.skipped and report.skipped[0][0].endswith("broken.wav")
    assert splits.train.tensors[0].shape[1:] == (1, 40, 51)


def test_your_own_recordings_become_spectrograms_one_at_a_time(tmp_path):
    """Each file becomes its spectrogram as it is read, never a clip kept (8 KB against 64), and
    they are what one stack of every clip gives."""
    import models.speech.task as speech_task
    from data.speech.audio import logmel
    for word, freq in (("hello", 300), ("bye", 900)):
        (tmp_path / word).mkdir()
        for i in range(5):
            write(tmp_path / word / f"{i}.wav", tone(0.6, 16000, freq + 10 * i), 16000)
    splits, report = speech_task.TASK.load_custom(tmp_path)
    clips = torch.stack([read_clip(f) for f in sorted((tmp_path / "bye").glob("*.wav"))
                         + sorted((tmp_path / "hello").glob("*.wav"))])
    assert np.stack(report.items).shape == (10, 40, 51)
    np.testing.assert_allclose(np.stack(report.items), logmel(clips)[:, 0].numpy(), atol=1e-5)


def test_silence_clips_are_quiet_noise():
    s = silence_clips(8)
    assert s.waves.shape == (8, CLIP_SAMPLES) and set(s.words) == {"_silence_"}
    assert float(s.waves.abs().max()) < 0.06


# ---- synthesis ----------------------------------------------------------------------------
def test_synthesis_command_on_two_words(tmp_path):
    from data.speech.synth import engines_available, main
    if not engines_available():
        pytest.skip("no speech synthesiser installed (espeak-ng, flite, festival)")
    assert main(["--out", str(tmp_path), "--words", "yes", "no", "--per-word", "3"]) == 0
    files = sorted(tmp_path.rglob("*.wav"))
    assert [f.parent.name for f in files].count("yes") == 3 and len(files) == 6
    for f in files:
        x, sr = sf.read(str(f))
        assert sr == 16000 and len(x) == CLIP_SAMPLES and np.abs(x).max() > 0.01
    stamp = files[0].stat().st_mtime_ns
    assert main(["--out", str(tmp_path), "--words", "yes", "no", "--per-word", "3"]) == 0
    assert files[0].stat().st_mtime_ns == stamp                      # cached: not synthesised again


# ---- the shipped model: predictor and scan ------------------------------------------------
@pytest.fixture(scope="module")
def fsdd_test():
    if not (Path(os.environ["BACKPROP_DATA"]) / "fsdd").is_dir():
        pytest.skip("FSDD not under BACKPROP_DATA")
    clips = load_fsdd()
    return clips.subset([t < 5 for t in clips.takes])


@pytest.fixture(scope="module")
def predictor():
    from models import load_predictor
    return load_predictor("speech")


def word(fsdd_test, w: str, speaker: str = "jackson") -> np.ndarray:
    i = next(i for i, (a, s) in enumerate(zip(fsdd_test.words, fsdd_test.speakers)) if a == w and s == speaker)
    return fsdd_test.waves[i].numpy()


def test_predictor_takes_any_rate_and_length(fsdd_test, predictor):
    seven = word(fsdd_test, "seven")
    at8k = seven[::2].copy()
    padded = np.concatenate([np.zeros(24000, np.float32), seven, np.zeros(8000, np.float32)])
    out = predictor.predict([(seven, 16000), (at8k, 8000), (padded, 16000)])
    assert [o["label"] for o in out] == ["seven"] * 3
    assert predictor.predict([(np.zeros(16000, np.float32), 16000)])[0]["label"] == "_silence_"
    with pytest.raises(DataError):
        predictor.predict([(np.zeros(0, np.float32), 16000)])
    with pytest.raises(DataError, match="waveform, sample_rate"):
        predictor.predict([seven])


def test_scan_finds_keywords_in_order_with_their_times(fsdd_test, predictor):
    gap = np.zeros(16000, np.float32)
    recording = np.concatenate([gap[:8000], word(fsdd_test, "three"), gap, word(fsdd_test, "nine"), gap[:8000]])
    found = predictor.scan(recording, 16000)
    assert [f["label"] for f in found] == ["three", "nine"], found
    assert 0.5 <= found[0]["time"] <= 1.5 and 2.5 <= found[1]["time"] <= 3.5
    quiet = predictor.scan_windows(np.zeros(48000, np.float32), 16000)
    assert all(w["label"] == "_silence_" for w in quiet) and predictor.scan(np.zeros(48000), 16000) == []


def test_a_long_recording_of_room_noise_is_silence_not_speech(predictor):
    # louder than the -50 dBFS gate, every window heard as _silence_: it had been "no keyword",
    # "speech, but no keyword said clearly enough"
    noise = np.random.default_rng(0).normal(0, 0.03, 48000).astype(np.float32)
    heard = predictor.hear(noise, 16000)
    assert not any(w["silent"] for w in heard["windows"])
    assert heard["label"] == "_silence_" and heard["silent"] and heard["keywords"] == []


# ---- the command line ---------------------------------------------------------------------
def test_predict_cli_names_the_word_and_reports_bad_files(fsdd_test, tmp_path, capsys):
    from models.predict import main
    good = write(tmp_path / "seven.wav", word(fsdd_test, "seven"), 16000)
    gap = np.zeros(8000, np.float32)
    long = write(tmp_path / "two_words.wav", np.concatenate([gap, word(fsdd_test, "six"), gap,
                                                             word(fsdd_test, "one")]), 16000)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    assert main(["speech", str(good), str(long), str(bad)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["label"] == "seven" and "keywords" not in lines[0]
    assert [k["label"] for k in lines[1]["keywords"]] == ["six", "one"]
    # one answer for a longer recording, as the app gives it: never "_unknown_" beside its keywords
    assert lines[1]["label"] == "six · one" and "top" not in lines[1] and "windows" not in lines[1]
    assert "not a readable audio file" in lines[2]["error"]


def test_train_cli_on_your_folders_then_predict(tmp_path, capsys):
    from models.train import main
    for w, freq in (("low", 200), ("high", 1500)):
        for i in range(6):
            write(tmp_path / "data" / w / f"{i}.wav", tone(0.5, 16000, freq + 20 * i), 16000)
    out = tmp_path / "run" / "mine"
    assert main(["speech", "--custom", str(tmp_path / "data"), "--out", str(out), "--epochs", "2",
                 "--init", "shipped"]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["task"] == "speech" and card["labels"] == ["high", "low"]
    assert card["preprocessing"]["sample_rate"] == 16000 and card["preprocessing"]["n_mels"] == 40
    assert main(["speech", "--custom", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_leave_one_speaker_out_trains_one_model_per_fold(fsdd_test, monkeypatch):
    """The evaluation's speaker-independent figure, on a small share of the data and two steps a fold."""
    from models.speech import loso as speech_loso
    from models.speech.task import LABELS, TASK
    from models.core.trainer import TrainConfig
    small = fsdd_test.subset([s in ("george", "theo") for s in fsdd_test.speakers])
    monkeypatch.setattr(TASK, "training_clips", lambda root=None, log=None: (small, silence_clips(8)))
    log = []
    result = speech_loso.leave_one_speaker_out(folds=2, cfg=TrainConfig(epochs=1, max_batches=2), log=log.append)
    assert list(result["folds"]) == ["george", "theo"] and 0 <= result["average"] <= 1
    assert sum(map(sum, result["confusion"])) == len(small) and "george left out" in log[0]
    table = speech_loso.confusion_table(result["confusion"], LABELS)
    assert table.splitlines()[0].startswith("true \\ pred")


def test_other_words_teach_a_taught_model_to_say_unknown(fsdd_test):   # fsdd_test: skips without FSDD
    """The teaching tab's trade-off, measured as `python -m models.speech.teach_eval` does: other
    words as `_unknown_` make real speech that is none of the taught words come out `_unknown_`."""
    from data.speech.synth import engines_available
    from models.speech.teach_eval import measure
    if not engines_available():
        pytest.skip("no speech synthesiser installed")
    without, with_others = measure(ratios=(0.0, 2.0))
    assert without["real_other_speech_called_unknown"] == 0.0          # no _unknown_ class at all
    assert with_others["other_words_clips"] == 48
    assert with_others["real_other_speech_called_unknown"] >= 0.5
    assert with_others["held_out_taught_voices_named_right"] >= 0.75

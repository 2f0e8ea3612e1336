"""Synthesise spoken words with Debian's espeak-ng, flite and festival, in many
voices, rates and pitches, written in the Speech Commands layout (one folder per
word, 1-s 16 kHz mono WAVs), so that anyone can rebuild the training set:

    python -m data.speech.synth --out ~/.cache/backprop-showcase/speech_synth
    python -m data.speech.synth --out /tmp/s --words yes no --per-word 6

Clips already on disk are kept, so a rerun only fills in what is missing. Every
choice (voice, variant, rate, pitch, tape speed) comes from a generator seeded by
the word and the clip's number: the same command makes the same set.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from data.core.errors import DataError
from data.speech.audio import fit_clip, frame_dbfs, read_audio, resample, write_wav

KEYWORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# Speech Commands' auxiliary words, and common words that are not keywords nor sound like
# one ("won", "for", "ate", "know", "write" would teach the network that a keyword is unknown)
UNKNOWN_WORDS = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                 "backward", "follow", "forward", "learn", "visual", "hello", "water", "music", "table",
                 "yellow", "please", "thanks", "start", "window", "paper", "green", "money", "river",
                 "people", "city", "chair", "apple", "morning", "little", "never", "under", "open",
                 "close", "ten", "twenty", "hundred", "maybe", "okay", "sun", "light", "fine", "net",
                 "dive", "sticks", "often", "gold", "note", "yet", "even", "fever", "stone", "own"]
ESPEAK_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
                 "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "klatt4", "adam", "Alicia", "Andy", "Annie", "aunty",
                   "belinda", "benjamin", "caleb", "david", "ed", "edward", "Gene", "iven", "john",
                   "linda", "max", "Mike", "paul", "quincy", "rob", "robert", "steph", "travis",
                   "victor", "zac", "grandma", "grandpa", "shelby", "norbert", "anika"]
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]
FESTIVAL_VOICES = ["kal_diphone", "cmu_us_slt_arctic_hts"]
ENGINES = ["espeak", "flite", "festival"]


@dataclass
class Job:
    word: str
    index: int
    engine: str
    voice: str
    rate: float       # relative duration/rate
    pitch: float      # espeak pitch 0-99, else unused
    tape: float       # resampling factor: >1 higher and faster
    level_db: float   # peak level of the written clip
    path: Path


MAX_WORD = 24
# letters (any alphabet), apostrophes and single spaces, starting with a letter: what a word to teach
# may be, so that it can never be an option of a synthesiser nor a path
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’]|(?<! ) (?! ))*")


def check_word(word) -> str:
    """A word to teach or synthesise, lowercased and trimmed, or a DataError that says what a word may be."""
    w = " ".join(str(word).lower().split())
    if not w:
        raise DataError("Type a word first.")
    if len(w) > MAX_WORD:
        raise DataError(f"A word to teach is at most {MAX_WORD} characters long ({len(w)} here).")
    if not _WORD.fullmatch(w):
        raise DataError("A word to teach is letters, apostrophes and spaces, starting with a letter "
                        "(e.g. hello, o'clock, good night): no digits, dashes, slashes or other signs.")
    return w


def folder_name(word: str) -> str:
    """The folder a word's clips go in: the word itself when it is plain a-z (the keywords, whose folder
    names the training reads as labels), else a hash of it. Never a path made of user text."""
    return word if re.fullmatch(r"[a-z]{1,24}", word) else "w-" + hashlib.sha1(word.encode()).hexdigest()[:12]


def other_words(exclude, k: int, start: int = 0) -> list[str]:
    """k distinct words of UNKNOWN_WORDS that are none of `exclude`: the other speech a model
    taught a few words needs as `_unknown_`, or it names one of them whatever is said. One fixed
    shuffle, read from `start` on, so that asking again (start = words already taken) gives new ones."""
    skip = {w.lower() for w in exclude}
    pool = [w for w in UNKNOWN_WORDS if w not in skip]
    random.Random(0).shuffle(pool)
    k = min(k, len(pool))
    return [pool[(start + i) % len(pool)] for i in range(k)]


def engines_available() -> list[str]:
    return [e for e, exe in [("espeak", "espeak-ng"), ("flite", "flite"), ("festival", "text2wave")]
            if shutil.which(exe)]


def plan(words, per_word: int, out: Path, engines: list[str]) -> list[Job]:
    """Half the clips from espeak-ng (the most voices), the rest shared by flite and festival."""
    jobs = []
    for word in words:
        for i in range(per_word):
            seed = int(hashlib.sha1(f"{word}/{i}".encode()).hexdigest()[:8], 16)
            r = random.Random(seed)
            share = [e for e in ["espeak", "espeak", "flite", "espeak", "festival", "flite"] if e in engines]
            engine = share[i % len(share)]
            if engine == "espeak":
                voice = f"{r.choice(ESPEAK_VOICES)}+{r.choice(ESPEAK_VARIANTS)}"
            else:
                voice = r.choice(FLITE_VOICES if engine == "flite" else FESTIVAL_VOICES)
            tape = 1.0 if engine == "espeak" else r.uniform(0.88, 1.14)
            jobs.append(Job(word, i, engine, voice, r.uniform(0.8, 1.3), r.uniform(15, 85), tape,
                            r.uniform(-24, -2),
                            out / folder_name(word) / f"{engine}-{voice.replace('+', '-')}-{i:03d}.wav"))
    return jobs


def synth_raw(job: Job, tmp: Path) -> Path:
    # the text reaches every synthesiser on standard input or in a file, never as an argument, so no
    # word can be read as an option (espeak-ng once took "-fpyproject.toml" as "speak this file")
    stem = f"{folder_name(job.word)}-{job.index:03d}-{job.engine}"
    wav = tmp / f"{stem}.wav"
    text = None
    if job.engine == "espeak":
        cmd = ["espeak-ng", "-v", job.voice, "-s", str(int(165 / job.rate)), "-p", str(int(job.pitch)),
               "-w", str(wav), "--stdin"]
        text = job.word
    elif job.engine == "flite":
        words = tmp / f"{stem}.txt"
        words.write_text(job.word + "\n")
        cmd = ["flite", "-voice", job.voice, "--setf", f"duration_stretch={job.rate:.2f}", "-f", str(words),
               "-o", str(wav)]
    else:
        cmd = ["text2wave", "-eval", f"(voice_{job.voice})", "-eval",
               f"(Parameter.set 'Duration_Stretch {job.rate:.2f})", "-o", str(wav)]
        text = job.word
    res = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=60)
    if res.returncode != 0 or not wav.exists():
        raise DataError(f"{job.engine} failed on {job.word!r} ({job.voice}): {res.stderr.strip()[:200]}")
    return wav


def trim(x: torch.Tensor, floor_db: float = -45.0, frame: int = 160) -> torch.Tensor:
    """Drop the leading and trailing near-silence the synthesisers add."""
    level = frame_dbfs(x, frame)
    loud = (level > level.max() + floor_db).nonzero().flatten()
    if len(loud) == 0:
        return x
    return x[int(loud[0]) * frame: (int(loud[-1]) + 1) * frame]


def render(job: Job, tmp: Path) -> Path:
    x, sr = read_audio(synth_raw(job, tmp))
    # tape speed: play the clip as if it were recorded at sr*tape (pitch and tempo move together)
    # (a rate in whole 100s of Hz keeps the resampling kernel small)
    x = trim(resample(x, int(round(sr * job.tape / 100)) * 100))
    x = fit_clip(x)
    x = x / x.abs().max().clamp(min=1e-6) * 10 ** (job.level_db / 20)
    write_wav(job.path, x)
    return job.path


def synthesise(words, out: str | Path, per_word: int = 24, engines: list[str] | None = None,
               workers: int = 2, log=None) -> list[Path]:
    """Make (or find already made) per_word clips of each word under out/<word>/."""
    out = Path(out)
    words = [check_word(w) for w in words]
    engines = [e for e in (engines or ENGINES) if e in engines_available()]
    if not engines:
        raise DataError("No speech synthesiser found: install espeak-ng, flite or festival "
                        "(apt-get install espeak-ng flite festival festvox-kallpc16k festvox-us-slt-hts).")
    jobs = plan(words, per_word, out, engines)
    todo = [j for j in jobs if not j.path.exists()]
    done, failed = [j.path for j in jobs if j.path.exists()], []
    with tempfile.TemporaryDirectory(prefix="bps-synth-") as tmp, ThreadPoolExecutor(max(1, workers)) as pool:
        futures = [(j, pool.submit(render, j, Path(tmp))) for j in todo]
        for k, (job, fut) in enumerate(futures):
            try:
                done.append(fut.result())
            except (DataError, subprocess.TimeoutExpired) as e:
                failed.append(f"{job.path.name}: {e}")
            if log and (k + 1) % 200 == 0:
                log(f"{k + 1}/{len(todo)} clips synthesised")
    if failed and log:
        log(f"{len(failed)} clips failed, e.g. {failed[0]}")
    return done


def synthesise_clips(words, per_word: int) -> list[tuple[np.ndarray, int]]:
    """per_word clips of each word as (waveform, rate), made in a folder that is gone afterwards:
    what the app's teaching tab adds to a user's examples."""
    with tempfile.TemporaryDirectory(prefix="bps-voices-") as tmp:
        return [read_audio(p) for p in synthesise(words, tmp, per_word)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m data.speech.synth", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder to write <word>/<clip>.wav into")
    p.add_argument("--words", nargs="+", help="words to say (default: the 20 keywords and the unknown words)")
    p.add_argument("--per-word", type=int, help="clips per word (default 60 per keyword, 12 per other word)")
    p.add_argument("--engines", nargs="+", choices=ENGINES, help="synthesisers to use (default: all installed)")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    try:
        if args.words:
            paths = synthesise(args.words, args.out, args.per_word or 12, args.engines, args.workers, log)
        else:
            paths = synthesise(KEYWORDS, args.out, args.per_word or 60, args.engines, args.workers, log)
            paths += synthesise(UNKNOWN_WORDS, args.out, max(4, (args.per_word or 60) // 5), args.engines,
                                args.workers, log)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(paths)} clips in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How poor spellers write a word: as it sounds.

"photograph" -> "fotograf", "enough" -> "enuf", "knowledge" -> "nollij",
"accommodation" -> "acomodashun", "special" -> "speshal", "picture" -> "pikcher".
Each rule is a pattern of English spelling and the letters a person who spells by ear
writes for it instead; respell() applies several at once, so the result is often
three or more edits from the word, where no edit-distance search reaches.
"""
from __future__ import annotations

import random
import re

# (pattern, what is written instead: choices, likeliest first). Longer patterns first:
# rules are tried in this order and a letter already respelled is not respelled again.
RULES: list[tuple[str, tuple[str, ...]]] = [
    (r"ough(?=t)", ("aw", "or", "ot")),                     # thought -> thawt
    (r"ough$", ("uf", "ow", "o", "off")),                    # enough -> enuf, plough, though, cough
    (r"augh(?=t)", ("or", "aw")),                            # caught -> cort
    (r"ight", ("ite", "it", "yte")),                         # night -> nite
    (r"(?<=.)(?:t|s|c|ss)ion", ("shun", "shon", "sion", "tion")),   # nation -> nashun
    (r"(?<=.)cian", ("shun", "shan")),                       # musician -> musishun
    (r"(?<=.)[ct]i(?=a[ln]|ou)", ("sh",)),                  # special -> speshal, ambitious -> ambishous
    (r"(?<=.)ture", ("cher", "chur", "tur")),                # picture -> pikcher
    (r"(?<=.)ous$", ("us", "ess")),                          # famous -> famus
    (r"(?<=.)dge", ("j", "ge")),                             # knowledge -> nollij
    (r"(?<=.)ledge", ("lij", "lege")),
    (r"ph", ("f",)),                                         # photograph -> fotograf
    (r"^kn|^gn|^wr|^ps", ("n", "n", "r", "s")),              # by position below
    (r"^wh", ("w",)),
    (r"(?<=m)b$", ("",)),                                    # climb -> clim
    (r"ch(?=r|l|[aeiou]r)", ("k",)),                         # chorus, school -> skool
    (r"qu", ("kw", "qw")),                                   # quick -> kwick
    (r"(?<=.)x(?=.)", ("ks", "cks")),                        # exactly -> eksactly
    (r"ck", ("k", "c")),
    (r"c(?=[eiy])", ("s",)),                                 # necessary -> nesessary
    (r"c(?=[aoulrt])", ("k",)),                              # accommodate -> akommodate
    (r"([bcdfglmnprstz])\1", ("\\1",)),                      # double consonants written once
    (r"ea", ("ee", "e")),                                    # really -> reely
    (r"oo", ("u", "ou")),
    (r"(?<=.)ie(?=.)", ("ee", "ei")),
    (r"(?<=[^aeiou])y$", ("ee", "ey", "i")),                 # happy -> happee
    (r"(?<=.)le$", ("el", "ul")),                            # table -> tabel
    (r"(?<=.)er$", ("a", "ur", "or")),                       # better -> betta
    (r"(?<=..)[aeiou](?=[bcdfgklmnprstvz][aeiou])", ("i", "e", "a", "u")),   # unstressed vowels blur
    (r"(?<=[^aeiou][aeiou][^aeiouy])e$", ("",)),             # silent e dropped: separate -> separat
]
_COMPILED = [(re.compile(p), alts) for p, alts in RULES]
ONCE = {RULES[-2][0], r"ea", r"oo", r"(?<=.)ie(?=.)"}       # applied at one place, not at every one
_POSITIONAL = {"kn": "n", "gn": "n", "wr": "r", "ps": "s"}


def respell(word: str, rng: random.Random, p: float = 0.6) -> str | None:
    """The word as someone writing by ear might: each rule that applies is used with
    probability p, on letters no earlier rule changed. None if nothing changed."""
    out, touched = word, [False] * len(word)
    for pattern, alts in _COMPILED:
        spans = [m for m in pattern.finditer(out) if not any(touched[m.start():m.end()])]
        if not spans or rng.random() > p:
            continue
        # someone who writes ph as f does so every time ("fotograf"); a blurred vowel is one of them
        chosen = [rng.choice(spans)] if pattern.pattern in ONCE else spans
        for m in reversed(chosen):                   # from the end, so earlier positions stay valid
            s = m.group(0)
            new = _POSITIONAL.get(s) if s in _POSITIONAL else m.expand(rng.choice(alts))
            out = out[:m.start()] + new + out[m.end():]
            touched = touched[:m.start()] + [True] * len(new) + touched[m.end():]
    return out if out != word and out.isalpha() else None


def drop_syllable(word: str, rng: random.Random) -> str | None:
    """A syllable swallowed in the middle of a long word: "probably" -> "probly",
    "interesting" -> "intresting", "library" -> "libary"."""
    if len(word) < 7:
        return None
    # a lone vowel between consonants (different -> diffrent), or an r after b or t (february -> febuary)
    spots = [m.span() for m in re.finditer(r"(?<=..[^aeiou])[aeiou](?=[^aeiouy].)|(?<=.[bt])r(?=[aeiou].)", word)]
    if not spots:
        return None
    a, b = rng.choice(spots)
    return word[:a] + word[b:]

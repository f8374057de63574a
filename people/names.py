"""Names across scripts: one search key for every spelling of a name.

"Рузахунов", "RUZAKHUNOV", "Ruzakhunov" and "Ruzahunov" are the same man. `name_key()` turns
any spelling into one key in three steps:

1. transliterate Cyrillic (Russian plus the Kazakh and Kyrgyz letters ә ғ қ ң ө ұ ү һ і) and
   Latin letters with diacritics into plain Latin;
2. fold the spellings that transliteration systems disagree on into one: zh/dzh/dj/j → j,
   kh/x → h, y → i, w → v, q → k, doubled letters → one ("Dzhuraev", "Djuraev" and "Juraev"
   share a key; so do "Torogeldiev" and "Torogeldiyev");
3. sort the words, so "Ruzakhunov Vikram" (the order of Russian documents) and
   "Vikram Ruzakhunov" share a key too.

The key is stored on save for persons and their name variants and searched with a substring
match per word, which works the same on SQLite and PostgreSQL. Spellings the folding does not
catch (a dropped or swapped letter) are scored by `name_similarity()`, a fuzzy ratio on the
keys (rapidfuzz), where the duplicate-person warning and search ranking need it.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

CYRILLIC_TO_LATIN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Kazakh and Kyrgyz letters.
    "ә": "a",
    "ғ": "g",
    "қ": "k",
    "ң": "ng",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
    # Ukrainian and Belarusian letters, which appear in Russian-language documents too.
    "є": "ye",
    "ї": "yi",
    "ґ": "g",
    "ў": "u",
}

# Latin letters whose plain-ASCII form loses a sound that transliterations spell out.
LATIN_SPECIAL = {"ş": "sh", "ç": "ch", "č": "ch", "š": "sh", "ž": "zh", "ı": "i", "ñ": "ng"}

# Order matters: longer spellings first, so "dzh" is not read as "d" + "zh".
FOLDINGS = [
    ("shch", "sh"),
    ("dzh", "j"),
    ("dj", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("x", "h"),
    ("tch", "ch"),
    ("w", "v"),
    ("q", "k"),
    ("y", "i"),
]

_NOT_LETTER = re.compile(r"[^a-z]+")
_DOUBLED = re.compile(r"(.)\1+")


def transliterate(name: str) -> str:
    """Plain Latin letters for any Latin or Cyrillic spelling, case kept per letter."""
    letters = []
    for char in name:
        lower = char.lower()
        # Look up with `in`, not `or`: ь and ъ map to "" and must be dropped, not kept.
        latin = CYRILLIC_TO_LATIN[lower] if lower in CYRILLIC_TO_LATIN else LATIN_SPECIAL.get(lower)
        if latin is None:
            letters.append(char)
            continue
        letters.append(latin.capitalize() if char != lower else latin)
    decomposed = unicodedata.normalize("NFKD", "".join(letters))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_word(word: str) -> str:
    for spelling, folded in FOLDINGS:
        word = word.replace(spelling, folded)
    return _DOUBLED.sub(r"\1", word)


def name_key(name: str) -> str:
    """The search key of a name: the same for every spelling of it (see module docstring)."""
    words = _NOT_LETTER.split(transliterate(name).lower())
    return " ".join(sorted(fold_word(word) for word in words if word))


def name_key_words(query: str) -> list[str]:
    """The words of a query's key, each to be matched as a substring of a stored key."""
    return name_key(query).split()


def name_similarity(a: str, b: str) -> float:
    """How alike two names are in any script, 0.0 to 1.0.

    A token-set ratio on the keys: a query that is one word of a full name ("Ruzahunov" for
    "Vikram Ruzakhunov") scores as high as the word alone deserves. The token-set ratio only
    credits words spelled exactly alike, so a misspelt word ("Ruzakunov" for "Vikram
    Ruzakhunov") is also scored word by word: each word of the shorter name against its
    closest word in the longer one. The higher of the two scores counts.
    """
    key_a, key_b = name_key(a), name_key(b)
    if not key_a or not key_b:
        return 0.0
    shorter, longer = sorted((key_a.split(), key_b.split()), key=len)
    per_word = sum(max(fuzz.ratio(word, other) for other in longer) for word in shorter)
    return max(fuzz.token_set_ratio(key_a, key_b), per_word / len(shorter)) / 100.0


def detect_script(name: str) -> str:
    """'cyrillic', 'latin', 'mixed' or 'other', by the letters the name uses."""
    scripts = set()
    for char in name:
        if not char.isalpha():
            continue
        if "\u0400" <= char <= "\u04ff" or "\u0500" <= char <= "\u052f":
            scripts.add("cyrillic")
        elif char.isascii() or unicodedata.name(char, "").startswith("LATIN"):
            scripts.add("latin")
        else:
            scripts.add("other")
    if len(scripts) == 1:
        return scripts.pop()
    return "mixed" if scripts else "other"

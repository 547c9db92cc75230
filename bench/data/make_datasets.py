#!/usr/bin/python3
"""Builds the accuracy benchmark's datasets (bench/data/*.csv) from Debian packages.

    apt-get install wamerican wngerman wfrench wspanish witalian wportuguese python3-pyphen \
        manpages-dev manpages-de manpages-fr manpages-es manpages-it manpages-pt-br fortunes fortunes-de
    /usr/bin/python3 bench/data/make_datasets.py

Seeded (random.Random(2026)), so the same packages give the same files. Sources and licences:
bench/data/README.md.
"""
import csv, glob, gzip, os, random, re, unicodedata

OUT = os.path.dirname(os.path.abspath(__file__))
R = random.Random(2026)


def write(name, rows):
    R.shuffle(rows)
    with open(os.path.join(OUT, name), 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['label', 'sequence'])
        w.writerows(rows)
    counts = {}
    for l, _ in rows:
        counts[l] = counts.get(l, 0) + 1
    print(f'{name}: {len(rows)} rows, {dict(sorted(counts.items()))}')


def words(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return [w.strip() for w in f if w.strip() and "'" not in w and not w.strip()[0].isupper()]


# 1. A single word -> its language (6 languages, 500 words each): character-level, one token a row.
LANGS = {'en': 'american-english', 'de': 'ngerman', 'fr': 'french', 'es': 'spanish', 'it': 'italian', 'pt': 'portuguese'}
lists = {l: set(w for w in words(f'/usr/share/dict/{p}') if len(w) >= 3) for l, p in LANGS.items()}
shared = set()
for a in lists:
    for b in lists:
        if a < b:
            shared |= lists[a] & lists[b]
rows = []
for l, ws in lists.items():
    rows += [(l, w) for w in R.sample(sorted(ws - shared), 500)]
write('word-language.csv', rows)

# 2. An English word's spelling -> how many parts hyphenation splits it into (about its syllables;
#    pyphen's en_US patterns, TeX's hyphenation algorithm), 1 to 5 ("5" is 5 or more).
import pyphen
hy = pyphen.Pyphen(lang='en_US')
en = sorted(w for w in lists['en'] if w.isalpha() and w.islower())
by = {}
for w in R.sample(en, 30000):
    n = min(5, len(hy.positions(w)) + 1)
    by.setdefault(str(n), []).append(w)
rows = []
for n, ws in by.items():
    rows += [(n, w) for w in ws[:900]]
write('word-parts.csv', rows)


def fortunes(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    out = []
    for t in text.split('\n%\n'):
        t = ' '.join(t.replace('%', '').split())
        if 10 <= len(t) <= 600:
            out.append(t)
    return out


# 3. An English fortune -> its topic (8 files of Debian's fortunes, none used by examples/).
rows = []
for topic in ['drugs', 'education', 'food', 'law', 'love', 'medicine', 'sports', 'startrek']:
    rows += [(topic, t) for t in fortunes(f'/usr/share/games/fortunes/{topic}')]
write('fortune-topic.csv', rows)

# 4. A short German text -> its topic (5 files of fortunes-de).
rows = []
for topic in ['fussball', 'letzteworte', 'ms', 'regeln', 'warmduscher']:
    rows += [(topic, t) for t in fortunes(f'/usr/share/games/fortunes/de/{topic}')]
write('german-topic.csv', rows)


def roff_text(path):
    """Running text of a man page's sections after SYNOPSIS: requests dropped, font escapes removed."""
    with gzip.open(path, 'rt', encoding='utf-8', errors='replace') as f:
        src = f.read()
    out, on = [], False
    for line in src.split('\n'):
        if line.startswith('.SH') or line.startswith('.Sh'):
            name = line[3:].strip().strip('"').upper()
            on = name not in ('NAME', 'SYNOPSIS', 'ÜBERSICHT', 'BEZEICHNUNG', 'SYNOPSIS', 'NOM', 'NOMBRE', 'SINOPSIS', 'NOME', 'SINTASSI', 'SINOPSE',
                              'LIBRARY', 'BIBLIOTHEK', 'BIBLIOTHÈQUE', 'BIBLIOTECA', 'SEE ALSO', 'SIEHE AUCH', 'VOIR AUSSI', 'VÉASE TAMBIÉN', 'VEDERE ANCHE', 'VEJA TAMBÉM',
                              'COLOPHON', 'KOLOPHON', 'TRADUCTION', 'ÜBERSETZUNG', 'TRADUCCIÓN', 'TRADUZIONE', 'TRADUÇÃO')
            continue
        if not on or line.startswith('.') or line.startswith("'"):
            if on and re.match(r'^\.(B|I|BR|IR|RB|RI|BI|IB)\s', line):
                line = re.sub(r'^\.\w+\s', '', line).replace('"', '')
            else:
                continue
        line = re.sub(r'\\f(\[[^\]]*\]|\(..|.)', '', line)
        line = re.sub(r'\\\((..)', ' ', line).replace('\\-', '-').replace('\\&', '').replace('\\e', '\\')
        line = re.sub(r'\\[a-zA-Z*]\S*', '', line)
        out.append(line)
    return ' '.join(' '.join(out).split())


# 5. An English man page's text -> system call (section 2) or library function (section 3): long texts.
rows = []
for sec in ['2', '3']:
    pages = sorted(p for p in glob.glob(f'/usr/share/man/man{sec}/*.{sec}*.gz') if not os.path.islink(p))
    texts = []
    for p in pages:
        t = roff_text(p)
        if len(t) >= 300:
            texts.append(t[:2000])
    rows += [(f'section{sec}', t) for t in R.sample(texts, min(600, len(texts)))]
write('manpage-section.csv', rows)

# 6. A sentence -> its language (5 languages, from the translated Linux man pages).
rows = []
for lang in ['de', 'fr', 'es', 'it', 'pt_BR']:
    sents = set()
    for p in sorted(glob.glob(f'/usr/share/man/{lang}/man[1-8]/*.gz')):
        if os.path.islink(p):
            continue
        for s in re.split(r'(?<=[.!?])\s+', roff_text(p)):
            if 40 <= len(s) <= 200 and not re.search(r'[<>{}=/\\]|\.\w+\(', s):
                sents.add(s)
    rows += [(lang, s) for s in R.sample(sorted(sents), 400)]
write('sentence-language.csv', rows)

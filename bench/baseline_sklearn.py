#!/usr/bin/python3
"""The baseline heed's defaults must match: TF-IDF + logistic regression, two feature sets.

    /usr/bin/python3 bench/baseline_sklearn.py train.csv test.csv [--json]

(Debian's python3-sklearn.) Word 1-2 grams and character 1-4 grams within word boundaries
(analyzer 'char_wb'), sublinear TF, each with C of the logistic regression chosen from
{0.1, 1, 10, 100} by 3-fold stratified cross-validation on train.csv only; each model is then fitted
on all of train.csv and scored once on test.csv. Prints each accuracy, the better of the two, and
the seconds each took (feature extraction, C search and final fit).
"""
import csv, json, sys, time, warnings
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

warnings.filterwarnings('ignore')


def read(path):
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    return [r['sequence'] for r in rows], [r['label'].strip() for r in rows]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    if len(args) != 2:
        sys.exit('usage: baseline_sklearn.py train.csv test.csv [--json]')
    xtr, ytr = read(args[0])
    xte, yte = read(args[1])
    out = {}
    for name, vec in [('word12', TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
                      ('char14', TfidfVectorizer(analyzer='char_wb', ngram_range=(1, 4), sublinear_tf=True, lowercase=True))]:
        t0 = time.time()
        pipe = make_pipeline(vec, LogisticRegression(max_iter=3000))
        cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
        search = GridSearchCV(pipe, {'logisticregression__C': [0.1, 1, 10, 100]}, cv=cv, n_jobs=1)
        search.fit(xtr, ytr)
        acc = float((search.predict(xte) == __import__('numpy').array(yte)).mean())
        out[name] = {'accuracy': acc, 'C': search.best_params_['logisticregression__C'], 'seconds': time.time() - t0}
    out['best'] = max(out['word12']['accuracy'], out['char14']['accuracy'])
    out['n'] = len(yte)
    if '--json' in sys.argv:
        print(json.dumps(out))
    else:
        for k in ('word12', 'char14'):
            print(f"{k}: accuracy {out[k]['accuracy']:.4f} (C {out[k]['C']}, {out[k]['seconds']:.1f} s)")
        print(f"best: {out['best']:.4f} (n={out['n']})")


main()
